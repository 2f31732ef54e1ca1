package io.spillway.gateway.jobs;

/**
 * The topics of the job flow (docs/KAFKA.md).
 *
 * @param jobs        SummarizationJob in, keyed by job id
 * @param events      InferenceEvents of the jobs' model requests; as many partitions as {@code jobs}
 * @param summaries   SummarizationResult out: progress, then the summary or the failure
 * @param deadLetters jobs that cannot be decoded or run
 * @param requests    where model requests go (the normal request path)
 */
public record JobTopics(String jobs, String events, String summaries, String deadLetters, String requests) {}
