package io.spillway.gateway.auth;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.config.SpillwayProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * The configured API keys ({@code spillway.gateway.api-keys}, each {@code key} or {@code key:name}).
 * Keys are held only as SHA-256 digests and looked up by the digest of what the caller presents.
 */
@Component
public final class ApiKeys {

  private static final String BEARER = "bearer ";

  private final Map<String, ApiKey> byDigest = new HashMap<>();

  public ApiKeys(SpillwayProperties properties) {
    for (String entry : properties.gateway().apiKeys()) {
      int colon = entry.indexOf(':');
      String key = colon < 0 ? entry : entry.substring(0, colon);
      if (key.isBlank()) {
        throw new IllegalArgumentException("spillway.gateway.api-keys holds an empty key");
      }
      String digest = sha256Hex(key);
      ApiKey apiKey = new ApiKey(digest.substring(0, 16), colon < 0 ? digest.substring(0, 16) : entry.substring(colon + 1));
      if (byDigest.put(digest, apiKey) != null) {
        throw new IllegalArgumentException("spillway.gateway.api-keys lists key " + apiKey.id() + " twice");
      }
    }
    if (byDigest.isEmpty()) {
      // Refusing every call would look like a bug; running open would be one.
      throw new IllegalArgumentException(
          "spillway.gateway.api-keys is empty: set at least one key (SPILLWAY_GATEWAY_API_KEYS=key or key:name,...)");
    }
  }

  /** The id records and logs carry for {@code key}: the first 16 hex chars of its SHA-256. */
  public static String idOf(String key) {
    return sha256Hex(key).substring(0, 16);
  }

  /**
   * The caller behind an {@code Authorization: Bearer <key>} header.
   *
   * @throws ApiException 401 invalid_api_key when the header is missing or the key unknown
   */
  public ApiKey authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw ApiException.invalidApiKey(
          "You didn't provide an API key. Send it in the Authorization header: 'Authorization: Bearer YOUR_KEY'.");
    }
    ApiKey key = byDigest.get(sha256Hex(authorization.substring(BEARER.length()).strip()));
    if (key == null) {
      throw ApiException.invalidApiKey("Incorrect API key provided.");
    }
    return key;
  }

  private static String sha256Hex(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
