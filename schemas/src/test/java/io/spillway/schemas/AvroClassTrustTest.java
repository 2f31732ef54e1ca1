package io.spillway.schemas;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.apache.avro.util.ClassSecurityValidator;
import org.junit.jupiter.api.Test;

class AvroClassTrustTest {

  @Test
  void trustsOurGeneratedClassesAndNothingElse() {
    AvroClassTrust.install();
    AvroClassTrust.install();

    assertThatCode(() -> ClassSecurityValidator.validate(InferenceRequest.class)).doesNotThrowAnyException();
    assertThatCode(() -> ClassSecurityValidator.validate(SessionStatus.class)).doesNotThrowAnyException();
    assertThatCode(() -> ClassSecurityValidator.validate(String.class)).doesNotThrowAnyException();
    assertThatThrownBy(() -> ClassSecurityValidator.validate(SampleRecords.class))
        .as("in the package but not generated")
        .isInstanceOf(SecurityException.class);
    assertThatThrownBy(() -> ClassSecurityValidator.validate(UUID.class)).isInstanceOf(SecurityException.class);
  }
}
