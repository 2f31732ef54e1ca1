package io.spillway.schemas.registry;

/**
 * One entry of a {@link SchemaStore}: version {@code version} of {@code subject} is the schema with
 * global id {@code id}, whose normalized JSON text is {@code schema}.
 */
public record StoredSchema(String subject, int version, int id, String schema) {}
