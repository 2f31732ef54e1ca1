package io.spillway.spill;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session directory as a Kafka Streams topology: the compacted sessions topic read into a global store, so
 * every instance of this service holds and answers for the whole directory. An update replaces the stored entry
 * only if its version is higher, so a stale worker cannot regress an entry; of two updates with the same version
 * the first in the log wins, the same on every instance. A DELETED entry ends the session's history: whatever
 * follows it in the log is the id's next life, at any version, because the spill store's versions (which the
 * workers' versions derive from) start again at 0 once its spill is deleted. Nothing of the old life can follow
 * it: DELETED is written only over the SPILLED entry of the spill's latest version, and a worker that resumed
 * that spill just before the delete does hold the session. A tombstone (null value) removes the entry.
 *
 * <p>Global stores are rebuilt on start by passing the topic through this same processor, so the version rule
 * holds after a restart too. The store is in memory: the compacted topic is the durable copy.
 */
final class SessionDirectoryTopology {
    static final String STORE = "spillway-session-directory";

    private SessionDirectoryTopology() {
    }

    static Topology build(String topic, Serde<SessionState> sessions) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), sessions).withLoggingDisabled(),
                topic, Consumed.with(Serdes.String(), sessions), NewerVersionWins::new);
        return builder.build();
    }

    static final class NewerVersionWins implements Processor<String, SessionState, Void, Void> {
        private static final Logger log = LoggerFactory.getLogger(NewerVersionWins.class);

        private KeyValueStore<String, SessionState> store;

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            store = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, SessionState> record) {
            String sessionId = record.key();
            SessionState update = record.value();
            if (sessionId == null) {
                log.warn("session state without a key ignored");
                return;
            }
            if (update == null) {
                store.delete(sessionId);
                return;
            }
            if (!sessionId.equals(update.getSessionId())) {
                log.warn("session state ignored: key {} but sessionId {}", sessionId, update.getSessionId());
                return;
            }
            SessionState current = store.get(sessionId);
            if (current == null || current.getState() == SessionStatus.DELETED || update.getVersion() > current.getVersion()) {
                store.put(sessionId, update);
            } else {
                log.info("stale session state ignored: session={} version={} state={} stored version={} state={}", sessionId,
                        update.getVersion(), update.getState(), current.getVersion(), current.getState());
            }
        }
    }
}
