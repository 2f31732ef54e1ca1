package io.spillway.gateway.kafka;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.schemas.InferenceRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Writes {@code InferenceRequest}s to {@code spillway.requests}, keyed by session id so that every
 * turn of a session, and its cancellation, reaches the worker holding that session.
 */
@Component
public final class RequestPublisher implements DisposableBean {

  /** The metadata entry that turns a request copy into its cancellation (docs/KAFKA.md). */
  public static final String CANCEL = "cancel";

  private static final Logger log = LoggerFactory.getLogger(RequestPublisher.class);

  private final Producer<String, InferenceRequest> producer;
  private final String topic;

  public RequestPublisher(KafkaClients clients, SpillwayProperties properties) {
    this.producer = clients.requestProducer();
    this.topic = properties.topics().requests();
  }

  /**
   * Sends {@code request} and waits until Kafka has it (acks=all).
   *
   * @throws ApiException 503 when Kafka or the schema registry cannot be reached in time, 500 when
   *     the record cannot be serialized
   */
  public void publish(InferenceRequest request) {
    try {
      producer.send(new ProducerRecord<>(topic, request.getSessionId(), request)).get();
    } catch (ExecutionException e) {
      throw failed(request, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.kafkaUnavailable("Interrupted while sending the request.");
    } catch (RuntimeException e) { // thrown by send itself: metadata timeout, serializer, registry
      throw failed(request, e);
    }
  }

  /** Asks the worker to stop generating {@code request}; best effort, does not wait. */
  public void cancel(InferenceRequest request) {
    Map<String, String> metadata = new HashMap<>(request.getMetadata());
    metadata.put(CANCEL, "true");
    InferenceRequest cancel = InferenceRequest.newBuilder(request).setMetadata(metadata).build();
    producer.send(
        new ProducerRecord<>(topic, cancel.getSessionId(), cancel),
        (sent, e) -> {
          if (e != null) {
            log.atWarn().addKeyValue("requestId", request.getRequestId()).setCause(e).log("cancel record not sent");
          }
        });
  }

  private static ApiException failed(InferenceRequest request, Throwable cause) {
    log.atWarn()
        .addKeyValue("requestId", request.getRequestId())
        .addKeyValue("error", cause.toString())
        .log("request not sent to Kafka");
    if (cause instanceof SerializationException) {
      return ApiException.internal("The request could not be encoded for the workers.");
    }
    return ApiException.kafkaUnavailable("The inference service is unavailable. Please retry later.");
  }

  @Override
  public void destroy() {
    producer.close();
  }
}
