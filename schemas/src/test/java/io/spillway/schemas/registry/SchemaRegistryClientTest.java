package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.SessionState;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The client against the embedded registry, both at its root and under Apicurio's path prefix. */
class SchemaRegistryClientTest {

  private static EmbeddedSchemaRegistry registry;

  @BeforeAll
  static void start() {
    registry = EmbeddedSchemaRegistry.start(0);
  }

  @AfterAll
  static void stop() {
    registry.close();
  }

  static Stream<Arguments> baseUrls() {
    return Stream.of(
        Arguments.of("root", (Function<EmbeddedSchemaRegistry, String>) EmbeddedSchemaRegistry::url),
        Arguments.of("ccompat", (Function<EmbeddedSchemaRegistry, String>) EmbeddedSchemaRegistry::ccompatUrl),
        Arguments.of("ccompat-slash", (Function<EmbeddedSchemaRegistry, String>) r -> r.ccompatUrl() + "/"));
  }

  private static Schema point(String... extraOptionalInts) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record("Point").namespace("test").fields().requiredInt("x").requiredInt("y");
    for (String name : extraOptionalInts) {
      fields = fields.name(name).type().intType().intDefault(0);
    }
    return fields.endRecord();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("baseUrls")
  void registerIsIdempotentAndIdsAreGlobal(String label, Function<EmbeddedSchemaRegistry, String> url) {
    String subject = "idem-" + label;
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url.apply(registry)).build();
        SchemaRegistryClient fresh = SchemaRegistryClient.builder(url.apply(registry)).build()) {
      int id = client.register(subject, InferenceEvent.getClassSchema());

      assertThat(client.register(subject, InferenceEvent.getClassSchema())).isEqualTo(id);
      assertThat(fresh.register(subject, InferenceEvent.getClassSchema())).as("uncached").isEqualTo(id);
      assertThat(fresh.register(subject + "-other", InferenceEvent.getClassSchema())).as("same schema, other subject").isEqualTo(id);
      assertThat(fresh.schemaById(id)).isEqualTo(InferenceEvent.getClassSchema());
      assertThat(fresh.subjects()).contains(subject, subject + "-other");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("baseUrls")
  void lookupFindsOnlyWhatIsRegistered(String label, Function<EmbeddedSchemaRegistry, String> url) {
    String subject = "lookup-" + label;
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url.apply(registry)).build()) {
      assertThatThrownBy(() -> client.lookup(subject, point()))
          .isInstanceOfSatisfying(SchemaNotFoundException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));

      int first = client.register(subject, point());
      int second = client.register(subject, point("z"));

      assertThat(client.lookup(subject, point()))
          .isEqualTo(new RegisteredSchema(subject, 1, first, point()));
      assertThat(client.lookup(subject, point("z")).version()).isEqualTo(2);
      assertThat(client.lookup(subject, point("z")).id()).isEqualTo(second);
      assertThatThrownBy(() -> client.lookup(subject, point("w")))
          .isInstanceOfSatisfying(SchemaNotFoundException.class, e -> {
            assertThat(e.httpStatus()).isEqualTo(404);
            assertThat(e.errorCode()).isEqualTo(40403);
          });
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("baseUrls")
  void compatibilityIsAskedAndEnforced(String label, Function<EmbeddedSchemaRegistry, String> url) {
    String subject = "compat-" + label;
    Schema withRequiredZ = SchemaBuilder.record("Point").namespace("test").fields()
        .requiredInt("x").requiredInt("y").requiredInt("z").endRecord();
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url.apply(registry)).build()) {
      assertThatThrownBy(() -> client.isCompatible(subject, point()))
          .isInstanceOfSatisfying(SchemaNotFoundException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
      client.register(subject, point());

      assertThat(client.isCompatible(subject, point("z"))).isTrue();
      assertThat(client.isCompatible(subject, withRequiredZ)).isFalse();
      assertThatThrownBy(() -> client.register(subject, withRequiredZ))
          .isInstanceOfSatisfying(SchemaIncompatibleException.class, e -> {
            assertThat(e.httpStatus()).isEqualTo(409);
            assertThat(e.errorCode()).isEqualTo(409);
            assertThat(e.getMessage())
                .contains("POST " + url.apply(registry).replaceAll("/$", "") + "/subjects/" + subject + "/versions")
                .contains("incompatible with an earlier schema for subject '" + subject + "'")
                .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
                .contains("z");
          });
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("baseUrls")
  void unknownIdsAndOddSubjectNames(String label, Function<EmbeddedSchemaRegistry, String> url) {
    String subject = ":.ctx:spillway sessions+" + label + "/value";
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url.apply(registry)).build()) {
      assertThatThrownBy(() -> client.schemaById(987_654))
          .isInstanceOfSatisfying(SchemaNotFoundException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));

      int id = client.register(subject, SessionState.getClassSchema());

      assertThat(client.subjects()).contains(subject);
      assertThat(client.lookup(subject, SessionState.getClassSchema()).id()).isEqualTo(id);
    }
  }
}
