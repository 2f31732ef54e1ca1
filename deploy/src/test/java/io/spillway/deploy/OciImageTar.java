package io.spillway.deploy;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * An OCI image layout tar as {@code jib:buildTar} writes it: index, manifest, config and the files of all layers
 * (later layers win). Blobs are checked against their digests as they are read.
 */
record OciImageTar(String reference, JsonNode config, Map<String, LayerFile> files) {

    /** A file or folder of a layer; {@code content} only for regular files under 1 MiB. */
    record LayerFile(int mode, boolean directory, long size, byte[] content) {
        String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int SMALL = 1 << 20;

    static OciImageTar read(Path tar) throws IOException {
        Map<String, byte[]> entries = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                if (entry.isFile()) {
                    entries.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        JsonNode index = JSON.readTree(required(entries, "index.json"));
        JsonNode descriptor = index.get("manifests").get(0);
        JsonNode manifest = JSON.readTree(blob(entries, descriptor.get("digest").asString()));
        JsonNode config = JSON.readTree(blob(entries, manifest.get("config").get("digest").asString()));
        Map<String, LayerFile> files = new LinkedHashMap<>();
        for (JsonNode layer : manifest.get("layers")) {
            byte[] compressed = blob(entries, layer.get("digest").asString());
            try (TarArchiveInputStream in = new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(compressed)))) {
                for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
                    String name = "/" + entry.getName().replaceFirst("^\\./", "").replaceFirst("/$", "");
                    byte[] content = entry.isFile() && entry.getSize() < SMALL ? in.readAllBytes() : null;
                    files.put(name, new LayerFile(entry.getMode() & 07777, entry.isDirectory(), entry.getSize(), content));
                }
            }
        }
        return new OciImageTar(descriptor.get("annotations").get("org.opencontainers.image.ref.name").asString(),
                config, files);
    }

    private static byte[] blob(Map<String, byte[]> entries, String digest) {
        String hex = digest.substring("sha256:".length());
        byte[] bytes = required(entries, "blobs/sha256/" + hex);
        try {
            String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            if (!actual.equals(hex)) {
                throw new IllegalStateException("blob " + digest + " has digest sha256:" + actual);
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return bytes;
    }

    private static byte[] required(Map<String, byte[]> entries, String name) {
        byte[] bytes = entries.get(name);
        if (bytes == null) {
            throw new IllegalStateException("not in the image tar: " + name);
        }
        return bytes;
    }
}
