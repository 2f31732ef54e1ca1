package io.spillway.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.spillway.engine.chat.ChatTemplate;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.backend.Backend;
import io.spillway.engine.backend.LoadedModel;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.sampling.GenerationConfig;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.kafka.DeliveryConfig;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Map;

/** Wires the engine (model, tokenizer, KV caches, batching thread) and the Kafka clients around it. */
@Configuration(proxyBeanMethods = false)
class WorkerConfiguration {
    private static final Logger log = LoggerFactory.getLogger(WorkerConfiguration.class);

    /** The model on the backend chosen, and the maker of every cache: the batch's one-off ones and the sessions'. */
    @Bean(destroyMethod = "close")
    LoadedModel model(WorkerProperties p) {
        if (p.maxContext() < 0) {
            throw new IllegalArgumentException("spillway.worker.max-context must be 0 (the model's positions) or more, got " + p.maxContext());
        }
        LoadedModel model = LoadedModel.load(p.model(), Backend.parse(p.backend()), p.kv(), KvCacheFactory.Mode.DECODE,
                p.maxContext() == 0 ? Integer.MAX_VALUE : p.maxContext(), msg -> log.info("engine backend choice: {}", msg));
        var c = model.config();
        log.info("engine ready backend={} model={} layers={} kv={} maxContext={} maxBatch={} cores={}", model.backend(), p.modelName(),
                c.numLayers(), model.kv(), maxContext(p, c.maxPositions()), p.maxBatch(), Runtime.getRuntime().availableProcessors());
        return model;
    }

    /** The most tokens a sequence holds: the model's positions, or fewer when max-context says so. */
    private static int maxContext(WorkerProperties p, int modelPositions) {
        return p.maxContext() == 0 ? modelPositions : Math.min(p.maxContext(), modelPositions);
    }

    @Bean
    Tokenizer tokenizer(WorkerProperties p) {
        return Tokenizer.load(p.model());
    }

    @Bean(destroyMethod = "close")
    EngineLoop engine(LoadedModel model, Tokenizer tokenizer, WorkerProperties p) {
        return new EngineLoop(new ContinuousBatcher(model.model(), tokenizer, model.caches(), p.maxBatch(), p.prefillBudget()),
                "spillway-engine");
    }

    @Bean(destroyMethod = "close")
    SessionRegistry sessions(LoadedModel model, KafkaProducer<String, SpecificRecord> producer, MeterRegistry meters,
                             WorkerProperties p) {
        SessionSpills spills = null;
        if (p.spill().url().isBlank()) {
            log.info("session spilling off (spillway.worker.spill.url is empty) maxSessions={} kvBudgetBytes={}", p.maxSessions(),
                    p.kvBudget().toBytes());
        } else if (p.spill().token().isBlank()) {
            throw new IllegalStateException("spillway.worker.spill.url is set but spillway.worker.spill.token is empty: the spill service refuses calls without one");
        } else {
            SpillClient client = new SpillClient(URI.create(p.spill().url()), p.spill().token(), p.spill().timeout());
            SessionDirectory directory = new SessionDirectory(producer, p.kafka().sessionsTopic(), workerId(p), model.kv(), model.fingerprint());
            spills = new SessionSpills(client, directory, model.caches(), model.fingerprint(), meters);
            log.info("sessions spill to {} maxSessions={} kvBudgetBytes={}", p.spill().url(), p.maxSessions(), p.kvBudget().toBytes());
        }
        return new SessionRegistry(p.maxSessions(), p.kvBudget().toBytes(), model.caches(), spills);
    }

    @Bean
    RequestTranslator translator(LoadedModel model, Tokenizer tokenizer, WorkerProperties p) {
        return new RequestTranslator(tokenizer, ChatTemplate.load(p.model()), GenerationConfig.load(p.model()),
                p.modelName(), maxContext(p, model.config().maxPositions()));
    }

    @Bean
    WorkerLiveness workerHealthIndicator(RequestConsumer requests, EngineLoop engine) {
        return new WorkerLiveness(requests, engine);
    }

    @Bean
    OffsetTracker offsets() {
        return new OffsetTracker();
    }

    @Bean
    WorkerMetrics metrics(MeterRegistry registry, EngineLoop engine, SessionRegistry sessions, OffsetTracker offsets) {
        return new WorkerMetrics(registry, engine, sessions, offsets);
    }

    @Bean(destroyMethod = "close")
    KafkaProducer<String, SpecificRecord> producer(WorkerProperties p) {
        // Token events of many streams share batches for 2 ms.
        Map<String, Object> c = DeliveryConfig.producer(p.kafka().bootstrapServers(), null, 2, null, p.kafka().properties());
        c.put(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, p.kafka().schemaRegistryUrl());
        return new KafkaProducer<>(c, new StringSerializer(), serializer(p));
    }

    /** The worker's own settings over the operator's extra ones (security and the like). */
    private static Map<String, Object> clientConfig(WorkerProperties p, Map<String, Object> own) {
        Map<String, Object> c = new java.util.HashMap<>(p.kafka().properties());
        c.putAll(own);
        return c;
    }

    private static SpillwayAvroSerializer<SpecificRecord> serializer(WorkerProperties p) {
        SpillwayAvroSerializer<SpecificRecord> s = new SpillwayAvroSerializer<>();
        s.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, p.kafka().schemaRegistryUrl()), false);
        return s;
    }

    @Bean
    EventPublisher events(KafkaProducer<String, SpecificRecord> producer, WorkerProperties p) {
        return new EventPublisher(producer, workerId(p), p.kafka().deadLetterTopic());
    }

    @Bean
    RequestConsumer requests(WorkerProperties p, EngineLoop engine, RequestTranslator translator, SessionRegistry sessions,
                             EventPublisher events, OffsetTracker offsets, WorkerMetrics metrics) {
        Map<String, Object> c = clientConfig(p, Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, p.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, p.kafka().groupId(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                // The job flow writes its requests in transactions: an aborted one must not be run.
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName(),
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, p.maxBatch())));
        SpillwayAvroDeserializer<InferenceRequest> deserializer = new SpillwayAvroDeserializer<>(InferenceRequest.class);
        deserializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, p.kafka().schemaRegistryUrl()), false);
        return new RequestConsumer(new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer()), deserializer,
                p.kafka().requestsTopic(), p.kafka().commitInterval(), p.drainTimeout(), engine, translator, sessions, events, offsets, metrics,
                p.maxQueued());
    }

    private static String workerId(WorkerProperties p) {
        if (!p.workerId().isBlank()) {
            return p.workerId();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "worker-" + ProcessHandle.current().pid();
        }
    }
}
