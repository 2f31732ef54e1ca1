package io.spillway.spill;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * A session state that cannot be decoded (not Avro, a schema the class cannot read) is logged and skipped: one bad
 * record must not stop the directory. Anything else, an unreachable schema registry above all, fails the
 * directory rather than skip records that are fine and lose their entries.
 */
public final class SkipUnreadableRecords implements DeserializationExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(SkipUnreadableRecords.class);

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof SerializationException) {
            log.warn("unreadable session state skipped: topic={} partition={} offset={} reason={}", record.topic(), record.partition(),
                    record.offset(), exception.getMessage());
            return Response.resume();
        }
        return Response.fail();
    }

    @Override
    public void configure(Map<String, ?> configs) {
        // nothing to configure
    }
}
