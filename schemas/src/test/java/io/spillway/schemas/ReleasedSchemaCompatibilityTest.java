package io.spillway.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The schemas in src/main/avro must stay backward compatible with the last released set
 * (src/test/resources/released/v1): a consumer built now must read what released producers wrote.
 * When a release ships, copy src/main/avro over a new released/vN and point this test at it.
 */
class ReleasedSchemaCompatibilityTest {

  private static final Path CURRENT = Path.of("src/main/avro");
  private static final Path RELEASED = Path.of("src/test/resources/released/v1");
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<String> releasedFiles() throws IOException {
    try (Stream<Path> files = Files.list(RELEASED)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList().stream();
    }
  }

  @Test
  void releasedSetHoldsEverySchema() throws IOException {
    assertThat(releasedFiles())
        .containsExactly(
            "DeadLetter.avsc", "InferenceEvent.avsc", "InferenceRequest.avsc", "SessionState.avsc",
            "SummarizationJob.avsc", "SummarizationResult.avsc");
  }

  @ParameterizedTest
  @MethodSource("releasedFiles")
  void currentSchemaReadsDataOfReleasedSchema(String file) throws IOException {
    assertThat(CURRENT.resolve(file)).as("a released schema may not be deleted").exists();
    Schema current = parse(Files.readString(CURRENT.resolve(file)));
    Schema released = parse(Files.readString(RELEASED.resolve(file)));

    assertThat(AvroCompatibility.problems(current, released)).isEmpty();
  }

  @Test
  void generatedClassesWereBuiltFromTheCurrentFiles() throws IOException {
    Map<String, Class<?>> classes =
        Stream.of(
                InferenceRequest.class, InferenceEvent.class, SessionState.class,
                SummarizationJob.class, SummarizationResult.class, DeadLetter.class)
            .collect(Collectors.toMap(c -> c.getSimpleName() + ".avsc", Function.identity()));
    try (Stream<Path> files = Files.list(CURRENT)) {
      for (Path file : files.toList()) {
        Class<?> generated = classes.get(file.getFileName().toString());
        assertThat(generated).as("generated class for %s", file).isNotNull();
        Schema fromFile = parse(Files.readString(file));
        Schema fromClass = SpecificData.get().getSchema(generated);
        assertThat(SchemaNormalization.parsingFingerprint64(fromClass))
            .as(file.toString())
            .isEqualTo(SchemaNormalization.parsingFingerprint64(fromFile));
        assertThat(AvroCompatibility.problems(fromClass, fromFile)).isEmpty();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("releasedFiles")
  void everyRecordAndFieldIsDocumented(String file) throws IOException {
    assertDocumented(parse(Files.readString(CURRENT.resolve(file))));
  }

  private static void assertDocumented(Schema schema) {
    switch (schema.getType()) {
      case RECORD -> {
        assertThat(schema.getDoc()).as("doc of %s", schema.getFullName()).isNotBlank();
        for (Schema.Field field : schema.getFields()) {
          assertThat(field.doc()).as("doc of %s.%s", schema.getFullName(), field.name()).isNotBlank();
          assertDocumented(field.schema());
        }
      }
      case ENUM -> assertThat(schema.getDoc()).as("doc of %s", schema.getFullName()).isNotBlank();
      case ARRAY -> assertDocumented(schema.getElementType());
      case MAP -> assertDocumented(schema.getValueType());
      case UNION -> schema.getTypes().forEach(ReleasedSchemaCompatibilityTest::assertDocumented);
      default -> {}
    }
  }

  @Test
  void checkCatchesANewRequiredFieldWithoutDefault() throws IOException {
    String released = Files.readString(RELEASED.resolve("InferenceRequest.avsc"));
    Schema changed = parse(withField(released, "{\"name\":\"priority\",\"type\":\"int\",\"doc\":\"d\"}"));

    List<String> problems = AvroCompatibility.problems(changed, parse(released));

    assertThat(problems)
        .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
        .contains("priority");
  }

  @Test
  void checkAcceptsTheSameFieldWithADefault() throws IOException {
    String released = Files.readString(RELEASED.resolve("InferenceRequest.avsc"));
    Schema changed =
        parse(withField(released, "{\"name\":\"priority\",\"type\":\"int\",\"default\":0,\"doc\":\"d\"}"));

    assertThat(AvroCompatibility.problems(changed, parse(released))).isEmpty();
  }

  @Test
  void checkCatchesARemovedEnumSymbolAndAChangedType() throws IOException {
    String released = Files.readString(RELEASED.resolve("SessionState.avsc"));
    Schema noDeleted = parse(released.replace("\"HOT\", \"SPILLED\", \"DELETED\"", "\"HOT\", \"SPILLED\""));
    Schema intBytes = parse(released.replace("{\"name\": \"bytes\", \"type\": \"long\"", "{\"name\": \"bytes\", \"type\": \"int\""));

    assertThat(AvroCompatibility.problems(noDeleted, parse(released)))
        .anySatisfy(p -> assertThat(p).contains("MISSING_ENUM_SYMBOLS"));
    assertThat(AvroCompatibility.problems(intBytes, parse(released)))
        .anySatisfy(p -> assertThat(p).contains("TYPE_MISMATCH"));
  }

  /** The schema JSON with one more field appended, as a developer would edit the .avsc. */
  static String withField(String schemaJson, String fieldJson) throws IOException {
    ObjectNode schema = (ObjectNode) JSON.readTree(schemaJson);
    ((ArrayNode) schema.get("fields")).add(JSON.readTree(fieldJson));
    return schema.toString();
  }

  private static Schema parse(String json) {
    return new Schema.Parser().parse(json);
  }
}
