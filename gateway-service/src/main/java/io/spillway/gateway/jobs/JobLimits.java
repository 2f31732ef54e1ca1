package io.spillway.gateway.jobs;

/** What a job may ask for; anything else is refused with the reason in its status. */
public record JobLimits(int maxDocumentChars, int maxDocumentTokens, int maxInstructionChars, int minTargetWords,
    int maxTargetWords) {}
