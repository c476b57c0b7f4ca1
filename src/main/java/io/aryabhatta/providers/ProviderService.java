package io.aryabhatta.providers;

import io.aryabhatta.model.ModelEndpoint;

public final class ProviderService {
  public ModelEndpoint endpoint(String workspaceId, String providerName) {
    throw new UnsupportedOperationException("stub");
  }
}
