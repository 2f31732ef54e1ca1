package io.spillway.gateway.auth;

/**
 * A caller, as the gateway knows it after authentication: {@code id} is the first 16 hex chars of
 * the key's SHA-256 (what records and logs carry, never the key), {@code name} an operator's label.
 */
public record ApiKey(String id, String name) {}
