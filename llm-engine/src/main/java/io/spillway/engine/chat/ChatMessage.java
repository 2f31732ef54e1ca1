package io.spillway.engine.chat;

import java.util.Objects;

/**
 * One turn of a conversation, as a chat template sees it: {@code role} is usually "system", "user"
 * or "assistant", but templates decide which roles they accept, so any non-null role is allowed here.
 */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}
