package io.spillway.schemas.registry;

import org.apache.avro.Schema;

/** A schema as a registry holds it under a subject: its global id and its version within the subject. */
public record RegisteredSchema(String subject, int version, int id, Schema schema) {}
