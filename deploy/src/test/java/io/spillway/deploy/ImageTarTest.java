package io.spillway.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The offline image tars every build makes ({@code jib:buildTar} on an empty base, bound to package): what the
 * real images hold above their base. Nothing here runs them: there is no container engine in CI. A build that
 * stops before package ({@code mvn test}) has no tars: skipped then, except in CI ({@code CI} set), which
 * installs and so must have them.
 */
class ImageTarTest {

    @BeforeAll
    static void imagesBuilt() {
        assumeFalse(Boolean.getBoolean("spillway.image.skip"), "images skipped (-Dspillway.image.skip)");
    }

    @ParameterizedTest
    @CsvSource({
            "gateway-service, io.spillway.gateway.GatewayApplication, 8080",
            "kv-spill-service, io.spillway.spill.SpillApplication, 8083",
            "inference-worker, io.spillway.worker.WorkerApplication, 8082"})
    void imageHoldsTheAppItsFullClasspathAndItsEntrypoint(String artifact, String mainClass, int port) throws IOException {
        OciImageTar image = image(artifact);
        JsonNode config = image.config().get("config");

        assertThat(image.reference()).isEqualTo("spillway/" + artifact + ":" + System.getProperty("spillway.version"));
        assertThat(image.config().get("os").asString()).isEqualTo("linux");
        assertThat(strings(config.get("Entrypoint"))).endsWith("-cp", "@/app/jib-classpath-file", mainClass)
                .contains("-XX:MaxRAMPercentage=75");
        assertThat(config.get("ExposedPorts").has(port + "/tcp")).isTrue();
        assertThat(config.get("User").asString()).isEqualTo("1000:1000");
        assertThat(image.files()).containsKey("/app/classes/" + mainClass.replace('.', '/') + ".class");
        assertThat(image.files().get("/app/jib-main-class-file").text().strip()).isEqualTo(mainClass);
        List<String> classpath = List.of(image.files().get("/app/jib-classpath-file").text().strip().split(":"));
        assertThat(classpath).contains("/app/classes", "/app/resources").hasSizeGreaterThan(10);
        assertThat(classpath).allSatisfy(entry -> assertThat(image.files()).containsKey(entry));
        assertThat(classpath).anySatisfy(entry -> assertThat(entry).matches("/app/libs/spring-boot-4\\..*\\.jar"));
    }

    @Test
    void workerBringsItsOwnJavaRuntimeAndTheTinyModel() throws IOException {
        OciImageTar image = image("inference-worker");
        JsonNode config = image.config().get("config");
        List<String> entrypoint = strings(config.get("Entrypoint"));

        assertThat(entrypoint).startsWith("/opt/java/bin/java").contains("--add-modules", "jdk.incubator.vector");
        assertThat(image.files().get("/opt/java/bin/java").mode()).isEqualTo(0755);
        assertThat(image.files().get("/opt/java/lib/jspawnhelper").mode()).isEqualTo(0755);
        assertThat(image.files()).containsKeys("/opt/java/lib/modules", "/opt/java/lib/server/libjvm.so");
        String release = image.files().get("/opt/java/release").text();
        assertThat(release).contains("JAVA_VERSION=\"25").containsPattern("MODULES=\".*jdk\\.incubator\\.vector.*\"")
                .containsPattern("MODULES=\".*java\\.sql.*\"").containsPattern("MODULES=\".*java\\.security\\.sasl.*\"");
        assertThat(config.get("WorkingDir").asString()).isEqualTo("/opt/spillway");
        assertThat(strings(config.get("Env"))).contains("JAVA_HOME=/opt/java");
        assertThat(image.files()).containsKeys("/opt/spillway/models/tiny-llama/config.json",
                "/opt/spillway/models/tiny-llama/tokenizer.json", "/opt/spillway/models/tiny-llama/spillway-kv-calibration.txt");
        assertThat(image.files().get("/opt/spillway/models/tiny-llama/model.safetensors").size())
                .isEqualTo(Files.size(Repo.root().resolve("models/tiny-llama/model.safetensors")));
    }

    @Test
    void spillImageKeepsSpillsInAFolderItsUserAndVolumesCanWrite() throws IOException {
        OciImageTar image = image("kv-spill-service");

        assertThat(image.files().get("/var/lib/spillway").directory()).isTrue();
        assertThat(image.files().get("/var/lib/spillway").mode()).isEqualTo(0777);
        assertThat(strings(image.config().get("config").get("Env"))).contains("SPILLWAY_SPILL_DIR=/var/lib/spillway/spills");
    }

    /** Each tar is read once: the worker's is over 100 MB. */
    private static final Map<String, OciImageTar> IMAGES = new HashMap<>();

    private static OciImageTar image(String artifact) throws IOException {
        OciImageTar cached = IMAGES.get(artifact);
        if (cached != null) {
            return cached;
        }
        Path tar = Repo.root().resolve(artifact).resolve("target/jib-offline-image.tar");
        if (System.getenv("CI") == null) {
            assumeTrue(Files.exists(tar), tar + " is made by the package phase: run verify or install");
        }
        assertThat(tar).as("%s: made by the %s module's package phase", tar, artifact).exists();
        OciImageTar image = OciImageTar.read(tar);
        IMAGES.put(artifact, image);
        return image;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asString()));
        return values;
    }
}
