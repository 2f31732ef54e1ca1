package io.spillway.gateway.auth;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.config.SpillwayProperties;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;

/**
 * Which API key each session belongs to: the first key that used it. Held in this instance only,
 * bounded (least recently used sessions are forgotten first); the cluster-wide directory is the
 * {@code spillway.sessions} topic, which a later issue wires in.
 */
@Component
public final class SessionOwners {

  /** Longest session id accepted; it becomes a Kafka key and a log field. */
  static final int MAX_SESSION_ID_LENGTH = 256;

  private final Map<String, String> ownerBySession;

  public SessionOwners(SpillwayProperties properties) {
    int capacity = properties.gateway().maxSessions();
    this.ownerBySession =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > capacity;
          }
        };
  }

  /**
   * The session a request belongs to: {@code header} ({@code X-Session-Id}), else {@code user},
   * else a fresh one-shot session; claimed for {@code apiKey} if nobody owns it yet.
   *
   * @throws ApiException 404 when the session is another key's, 400 when the id is unusable
   */
  public String resolve(String header, String user, ApiKey apiKey) {
    String sessionId = header != null && !header.isBlank() ? header : user != null && !user.isBlank() ? user : null;
    if (sessionId == null) {
      sessionId = UUID.randomUUID().toString();
    } else if (sessionId.length() > MAX_SESSION_ID_LENGTH || sessionId.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.invalidValue(
          header != null ? "X-Session-Id" : "user",
          "A session id is at most " + MAX_SESSION_ID_LENGTH + " characters, without control characters.");
    }
    String owner;
    synchronized (ownerBySession) {
      // In an access-ordered map putIfAbsent of a present key counts as a use, keeping it recent.
      owner = ownerBySession.putIfAbsent(sessionId, apiKey.id());
    }
    if (owner != null && !owner.equals(apiKey.id())) {
      throw ApiException.sessionNotFound();
    }
    return sessionId;
  }
}
