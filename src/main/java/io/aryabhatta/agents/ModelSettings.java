package io.aryabhatta.agents;

/** The model an agent uses and its sampling parameters; null parameters are not sent. */
public record ModelSettings(String provider, String name, Double temperature, Double topP, Integer maxTokens,
    Long seed) {}
