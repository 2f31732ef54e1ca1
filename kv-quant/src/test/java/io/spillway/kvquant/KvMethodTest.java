package io.spillway.kvquant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KvMethodTest {

    @Test
    void everyPresetParses() {
        for (String name : KvMethod.NAMES) {
            assertThat(KvMethod.parse(name).name()).isEqualTo(name);
        }
        assertThat(KvMethod.parse("fp16").quantized()).isFalse();
        KvMethod r = KvMethod.parse("rotatekv2");
        assertThat(r.preRope()).isTrue();
        assertThat(r.keys().reorder()).isTrue();
        assertThat(r.sinkActivations()).isEqualTo(20);
        assertThat(KvMethod.parse("kivi2").keys().axis()).isEqualTo(PackedBlock.Axis.CHANNEL);
        assertThat(KvMethod.parse("akvq2").salientBits()).isEqualTo(4);
    }

    @Test
    void overridesMakeAblations() {
        KvMethod m = KvMethod.parse("rotatekv2:reorder=off,sinks=0,prerope=off,group=64");
        assertThat(m.keys().reorder()).isFalse();
        assertThat(m.sinkActivations()).isZero();
        assertThat(m.preRope()).isFalse();
        assertThat(m.keys().groupSize()).isEqualTo(64);
        assertThat(m.values().groupSize()).isEqualTo(64);
        assertThat(KvMethod.parse("int2:rotate=on").keys().rotationHeads()).isEqualTo(1);
    }

    @Test
    void badSpecsAreNamed() {
        assertThatThrownBy(() -> KvMethod.parse("int3")).hasMessageContaining("unknown KV method 'int3'").hasMessageContaining("rotatekv2");
        assertThatThrownBy(() -> KvMethod.parse("int2:colour=red")).hasMessageContaining("unknown KV method option 'colour'");
        assertThatThrownBy(() -> KvMethod.parse("int2:sinks")).hasMessageContaining("key=value");
        assertThatThrownBy(() -> KvMethod.parse("int2:bits=3")).hasMessageContaining("2, 4 or 8");
        assertThatThrownBy(() -> KvMethod.parse("int2:reorder=maybe")).hasMessageContaining("on or off");
        assertThatThrownBy(() -> KvMethod.parse("fp16:bits=2")).hasMessageContaining("no options");
    }
}
