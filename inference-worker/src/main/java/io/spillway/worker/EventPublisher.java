package io.spillway.worker;

import io.spillway.schemas.DeadLetter;
import io.spillway.schemas.ErrorInfo;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.Usage;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.List;

/** Writes a request's events to its reply partition, and rejected records to the dead-letter topic. */
final class EventPublisher {
    private static final Logger log = LoggerFactory.getLogger(EventPublisher.class);

    private final Producer<String, SpecificRecord> producer;
    private final String workerId;
    private final String deadLetterTopic;

    EventPublisher(Producer<String, SpecificRecord> producer, String workerId, String deadLetterTopic) {
        this.producer = producer;
        this.workerId = workerId;
        this.deadLetterTopic = deadLetterTopic;
    }

    /** One request's event stream, numbering events 0, 1, 2, ... */
    final class Stream {
        private final InferenceRequest request;
        private final int attempt;
        private int seq;

        private Stream(InferenceRequest request, int attempt) {
            this.request = request;
            this.attempt = attempt;
        }

        void started() {
            send(event(EventType.STARTED));
        }

        void delta(String text, List<Integer> tokenIds) {
            InferenceEvent e = event(EventType.DELTA);
            e.setDeltaText(text);
            e.setTokenIds(tokenIds);
            send(e);
        }

        void finished(String reason, int promptTokens, int completionTokens, int cachedTokens) {
            InferenceEvent e = event(EventType.FINISHED);
            e.setFinishReason(reason);
            e.setUsage(new Usage(promptTokens, completionTokens, cachedTokens));
            send(e);
        }

        String requestId() {
            return request.getRequestId();
        }

        void error(String code, String message) {
            InferenceEvent e = event(EventType.ERROR);
            e.setError(new ErrorInfo(code, message));
            send(e);
        }

        private InferenceEvent event(EventType type) {
            return InferenceEvent.newBuilder().setRequestId(request.getRequestId()).setSessionId(request.getSessionId())
                    .setAttempt(attempt).setSeq(seq++).setType(type).setWorkerId(workerId)
                    .setTimestampMs(System.currentTimeMillis()).build();
        }

        private void send(InferenceEvent e) {
            producer.send(new ProducerRecord<>(request.getReplyTopic(), request.getReplyPartition(), request.getRequestId(), e),
                    (meta, err) -> {
                        if (err != null) {
                            log.warn("event not delivered requestId={} seq={} error={}", e.getRequestId(), e.getSeq(), err.toString());
                        }
                    });
        }
    }

    Stream stream(InferenceRequest request, int attempt) {
        return new Stream(request, attempt);
    }

    void deadLetter(ConsumerRecord<byte[], byte[]> record, String reason, Throwable cause) {
        DeadLetter d = DeadLetter.newBuilder().setTopic(record.topic()).setPartition(record.partition()).setOffset(record.offset())
                .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setReason(reason).setErrorClass(cause == null ? null : cause.getClass().getName())
                .setTimestampMs(System.currentTimeMillis()).build();
        producer.send(new ProducerRecord<>(deadLetterTopic, d));
        log.warn("dead-lettered topic={} partition={} offset={} reason={}", record.topic(), record.partition(), record.offset(), reason);
    }

    void flush() {
        producer.flush();
    }
}
