package io.spillway.gateway.api;

import java.util.List;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** Answer of {@code GET /v1/models}. */
public record ModelList(String object, List<Model> data) {

  public ModelList(List<Model> data) {
    this("list", data);
  }

  @JsonNaming(SnakeCaseStrategy.class)
  public record Model(String id, String object, long created, String ownedBy) {

    public Model(String id, long created) {
      this(id, "model", created, "spillway");
    }
  }
}
