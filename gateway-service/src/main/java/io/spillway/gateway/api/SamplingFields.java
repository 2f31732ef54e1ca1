package io.spillway.gateway.api;

import tools.jackson.databind.JsonNode;

/** The sampling parameters chat and text completion requests share, as the client sent them (null: not sent). */
public interface SamplingFields {

  Double temperature();

  Double topP();

  /** Most tokens to generate, and the name of the parameter that said so. */
  Integer requestedMaxTokens();

  String maxTokensParam();

  Integer n();

  /** A string, an array of strings, or null. */
  JsonNode stop();

  Long seed();

  /** Extensions beyond OpenAI's parameters, as vLLM names them. */
  Integer topK();

  Double minP();

  Double repetitionPenalty();
}
