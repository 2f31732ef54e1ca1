package io.spillway.schemas.serde;

import io.spillway.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The Kafka config keys of {@link SpillwayAvroSerializer} and {@link SpillwayAvroDeserializer}.
 * They are named as in Confluent's Avro serde, so producer/consumer configs written for that one
 * carry over unchanged; keys of it not listed here are ignored.
 */
public final class SpillwayAvroSerdeConfig {

  /** Base URL of the schema registry, one URL, may carry a path prefix (Apicurio: {@code .../apis/ccompat/v7}). */
  public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

  /** Whether the serializer registers a record's schema under the topic's subject; default true. When false it only looks it up. */
  public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";

  /** Generated class (name or Class) the value deserializer reads into. */
  public static final String SPECIFIC_AVRO_VALUE_TYPE = "specific.avro.value.type";

  /** Generated class (name or Class) the key deserializer reads into. */
  public static final String SPECIFIC_AVRO_KEY_TYPE = "specific.avro.key.type";

  /** {@code user:password} for HTTP basic auth to the registry. */
  public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";

  /** Static bearer token for the registry. */
  public static final String BEARER_AUTH_TOKEN = "bearer.auth.token";

  private static final ConfigDef DEFINITION =
      new ConfigDef()
          .define(SCHEMA_REGISTRY_URL, Type.STRING, null, Importance.HIGH, "Base URL of the schema registry.")
          .define(AUTO_REGISTER_SCHEMAS, Type.BOOLEAN, true, Importance.MEDIUM, "Register schemas on first use.")
          .define(SPECIFIC_AVRO_VALUE_TYPE, Type.CLASS, null, Importance.HIGH, "Class values are read into.")
          .define(SPECIFIC_AVRO_KEY_TYPE, Type.CLASS, null, Importance.HIGH, "Class keys are read into.")
          .define(BASIC_AUTH_USER_INFO, Type.PASSWORD, null, Importance.MEDIUM, "user:password for basic auth.")
          .define(BEARER_AUTH_TOKEN, Type.PASSWORD, null, Importance.MEDIUM, "Bearer token.");

  private final Map<String, Object> values;

  SpillwayAvroSerdeConfig(Map<String, ?> configs) {
    this.values = DEFINITION.parse(configs);
  }

  boolean autoRegister() {
    return (Boolean) values.get(AUTO_REGISTER_SCHEMAS);
  }

  /** The configured generated class for keys or values, or null when none is set. */
  Class<?> specificType(boolean isKey) {
    return (Class<?>) values.get(isKey ? SPECIFIC_AVRO_KEY_TYPE : SPECIFIC_AVRO_VALUE_TYPE);
  }

  SchemaRegistryClient newRegistryClient() {
    String url = (String) values.get(SCHEMA_REGISTRY_URL);
    if (url == null || url.isBlank()) {
      throw new ConfigException(SCHEMA_REGISTRY_URL + " is required (the schema registry's base URL)");
    }
    if (url.contains(",")) {
      // Confluent's serde fails over between listed URLs; this one does not, so say it rather than use only the first.
      throw new ConfigException(SCHEMA_REGISTRY_URL, url, "takes one URL; put a load balancer in front of several registries");
    }
    SchemaRegistryClient.Builder builder;
    try {
      builder = SchemaRegistryClient.builder(url);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(SCHEMA_REGISTRY_URL, url, e.getMessage());
    }
    Password userInfo = (Password) values.get(BASIC_AUTH_USER_INFO);
    if (userInfo != null) {
      String pair = userInfo.value();
      int colon = pair.indexOf(':');
      if (colon < 0) {
        throw new ConfigException(BASIC_AUTH_USER_INFO + " must be user:password");
      }
      builder.basicAuth(pair.substring(0, colon), pair.substring(colon + 1));
    }
    Password token = (Password) values.get(BEARER_AUTH_TOKEN);
    if (token != null) {
      if (userInfo != null) {
        throw new ConfigException("set " + BASIC_AUTH_USER_INFO + " or " + BEARER_AUTH_TOKEN + ", not both");
      }
      builder.bearerToken(token.value());
    }
    return builder.build();
  }
}
