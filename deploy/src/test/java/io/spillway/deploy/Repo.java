package io.spillway.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root (surefire passes it; an IDE run from the module folder finds it too). */
final class Repo {
    private Repo() {
    }

    static Path root() {
        String configured = System.getProperty("spillway.root");
        Path root = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath().getParent();
        if (!Files.isDirectory(root.resolve("helm/spillway"))) {
            throw new IllegalStateException("not the Spillway repository root: " + root.toAbsolutePath());
        }
        return root.normalize();
    }
}
