package io.spillway.engine.cuda;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class SpillHalvesTest {
    @Test
    void deviceHalvesGoToTheStreamAsBigEndianShortsAndBack() throws IOException {
        byte[] le = {9, 1, 2, 3, 4, 5, (byte) 0xfe, (byte) 0xff};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SpillHalves.write(new DataOutputStream(bytes), le, 2, 3);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()));
        assertThat(new short[] {in.readShort(), in.readShort(), in.readShort()}).containsExactly((short) 0x0302, (short) 0x0504, (short) 0xfffe);
        byte[] back = new byte[8];
        SpillHalves.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())), back, 2, 3);
        assertThat(back).containsExactly(0, 0, 2, 3, 4, 5, (byte) 0xfe, (byte) 0xff);
    }
}
