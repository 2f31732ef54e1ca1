package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConfluentWireFormatTest {

  @Test
  void headerIsMagicZeroThenBigEndianId() {
    assertThat(ConfluentWireFormat.header(0x01020304)).containsExactly(0, 1, 2, 3, 4);
    assertThat(ConfluentWireFormat.schemaId(new byte[] {0, 1, 2, 3, 4, 42})).isEqualTo(0x01020304);
    assertThat(ConfluentWireFormat.schemaId(ConfluentWireFormat.header(Integer.MAX_VALUE)))
        .isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void jsonIsRecognizedAsJson() {
    byte[] json = "{\"requestId\":\"r\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> ConfluentWireFormat.schemaId(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown magic byte 0x7b: not Confluent-framed Avro (JSON?)");
  }

  @Test
  void otherMagicBytesAreRefusedWithoutTheJsonHint() {
    assertThatThrownBy(() -> ConfluentWireFormat.schemaId(new byte[] {(byte) 0xff, 0, 0, 0, 1, 2}))
        .hasMessage("unknown magic byte 0xff: not Confluent-framed Avro");
  }

  @Test
  void shortInputIsTooShort() {
    assertThatThrownBy(() -> ConfluentWireFormat.schemaId(new byte[] {0, 0, 1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("too short for Confluent-framed Avro: 3 bytes");
    assertThatThrownBy(() -> ConfluentWireFormat.schemaId(new byte[0]))
        .hasMessageStartingWith("too short for Confluent-framed Avro: 0 bytes");
  }
}
