package io.spillway.spill;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the spill service reads from Spring properties ({@code spillway.spill.*}).
 *
 * @param dir           where blobs and their metadata live (default in kv-spill-service.properties,
 *                      because it is relative to {@code java.io.tmpdir})
 * @param maxBytes      largest blob accepted
 * @param ttl           spills not rewritten for this long are deleted by the sweep
 * @param sweepInterval how often the sweep runs
 * @param tokens        bearer tokens the other services present; none configured means every request is refused
 */
@ConfigurationProperties("spillway.spill")
public record SpillProperties(Path dir, @DefaultValue("1GB") DataSize maxBytes, @DefaultValue("7d") Duration ttl,
                              @DefaultValue("10m") Duration sweepInterval, @DefaultValue List<String> tokens) {
}
