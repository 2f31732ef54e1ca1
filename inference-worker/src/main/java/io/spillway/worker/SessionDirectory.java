package io.spillway.worker;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the session directory (the compacted {@code spillway.sessions} topic) where a session's cache
 * is. Entry versions derive from the spill store's version, which only ever grows per session and is
 * shared by every worker: {@code 2v + 1} for HOT after resuming (or starting) at store version
 * {@code v}, {@code 2v} for SPILLED as store version {@code v}. No clocks are compared.
 */
final class SessionDirectory {
    private static final Logger log = LoggerFactory.getLogger(SessionDirectory.class);

    private final Producer<String, SpecificRecord> producer;
    private final String topic;
    private final String workerId;
    private final String kvMethod;
    private final String modelFingerprint;

    SessionDirectory(Producer<String, SpecificRecord> producer, String topic, String workerId, String kvMethod, String modelFingerprint) {
        this.producer = producer;
        this.topic = topic;
        this.workerId = workerId;
        this.kvMethod = kvMethod;
        this.modelFingerprint = modelFingerprint;
    }

    void hot(String sessionId, String apiKeyId, long storeVersion, int tokens, long bytes) {
        publish(sessionId, apiKeyId, SessionStatus.HOT, workerId, null, 2 * storeVersion + 1, tokens, bytes);
    }

    void spilled(String sessionId, String apiKeyId, long storeVersion, String location, int tokens, long bytes) {
        publish(sessionId, apiKeyId, SessionStatus.SPILLED, null, location, 2 * storeVersion, tokens, bytes);
    }

    private void publish(String sessionId, String apiKeyId, SessionStatus status, String worker, String location, long version,
                         int tokens, long bytes) {
        SessionState s = SessionState.newBuilder().setSessionId(sessionId).setApiKeyId(apiKeyId).setState(status)
                .setWorkerId(worker).setLocation(location).setKvMethod(kvMethod).setTokenCount(tokens).setBytes(bytes)
                .setModelFingerprint(modelFingerprint).setUpdatedAtMs(System.currentTimeMillis()).setVersion(version).build();
        // The directory is advisory (workers read the spill store itself): a lost entry costs no session.
        producer.send(new ProducerRecord<>(topic, sessionId, s), (meta, e) -> {
            if (e != null) {
                log.warn("session directory update failed session={} state={} error={}", sessionId, status, e.toString());
            }
        });
    }
}
