package io.spillway.schemas.serde;

/**
 * Confluent's default subject naming: the schemas of a topic's values live under
 * {@code <topic>-value} and those of its keys under {@code <topic>-key}, so each topic evolves its
 * own schema and the registry checks compatibility per topic.
 */
public final class TopicNameStrategy {

  private TopicNameStrategy() {}

  /** The subject of {@code topic}'s keys or values. */
  public static String subject(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }
}
