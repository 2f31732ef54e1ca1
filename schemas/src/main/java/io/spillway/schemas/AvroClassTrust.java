package io.spillway.schemas;

import org.apache.avro.specific.AvroGenerated;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Adds this module's generated classes to Avro's class allow-list. Avro 1.12.2 checks every class
 * it loads by name (to read or write a SpecificRecord, or build a record default) against a
 * JVM-wide allow-list that by default holds only a few java.lang classes, so without this it
 * refuses our own records ("Forbidden io.spillway.schemas.InferenceRequest! This class is not
 * trusted", AVRO-4189 regression). Trusted: classes of package {@code io.spillway.schemas} that
 * Avro generated ({@link AvroGenerated}); nothing else is widened.
 *
 * <p>The serde installs it; code that uses Avro's specific readers/writers directly must call
 * {@link #install()} first.
 */
public final class AvroClassTrust {

  private static final String PACKAGE_PREFIX = "io.spillway.schemas.";
  private static boolean installed;

  private AvroClassTrust() {}

  /** Extends Avro's global allow-list with this module's generated classes; idempotent. */
  public static synchronized void install() {
    if (!installed) {
      ClassSecurityValidator.setGlobal(
          ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), AvroClassTrust::isGeneratedHere));
      installed = true;
    }
  }

  private static boolean isGeneratedHere(Class<?> type) {
    return type.getName().startsWith(PACKAGE_PREFIX) && type.isAnnotationPresent(AvroGenerated.class);
  }
}
