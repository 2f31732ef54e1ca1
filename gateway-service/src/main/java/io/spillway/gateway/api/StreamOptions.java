package io.spillway.gateway.api;

import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** {@code stream_options}: {@code include_usage} adds a last chunk with the token counts. */
@JsonNaming(SnakeCaseStrategy.class)
public record StreamOptions(Boolean includeUsage) {}
