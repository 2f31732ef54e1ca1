package io.spillway.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.config.SpillwayProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class ApiKeysTest {

  static SpillwayProperties properties(String... keyValues) {
    MapConfigurationPropertySource source = new MapConfigurationPropertySource();
    for (int i = 0; i < keyValues.length; i += 2) {
      source.put(keyValues[i], keyValues[i + 1]);
    }
    return new Binder(source).bindOrCreate("spillway", SpillwayProperties.class);
  }

  @Test
  void idIsTheFirst16HexCharsOfTheSha256() {
    // echo -n sk-test | sha256sum
    assertThat(ApiKeys.idOf("sk-test")).isEqualTo("f3abf2a6cc4f0098");
  }

  @Test
  void keysWithAndWithoutNames() {
    ApiKeys keys = new ApiKeys(properties("spillway.gateway.api-keys", "sk-one:team-a,sk-two"));

    assertThat(keys.authenticate("Bearer sk-one")).isEqualTo(new ApiKey(ApiKeys.idOf("sk-one"), "team-a"));
    assertThat(keys.authenticate("bearer sk-two").id()).isEqualTo(ApiKeys.idOf("sk-two"));
    assertThat(keys.authenticate("bearer sk-two").name()).isEqualTo(ApiKeys.idOf("sk-two"));
  }

  @Test
  void unknownMissingOrMalformedCredentialsAre401() {
    ApiKeys keys = new ApiKeys(properties("spillway.gateway.api-keys", "sk-one"));

    for (String header : new String[] {null, "", "sk-one", "Basic c2stb25l", "Bearer sk-two", "Bearer "}) {
      assertThatThrownBy(() -> keys.authenticate(header))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("invalid_api_key"));
    }
  }

  @Test
  void noKeysIsAConfigurationError() {
    assertThatThrownBy(() -> new ApiKeys(properties()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spillway.gateway.api-keys");
  }
}
