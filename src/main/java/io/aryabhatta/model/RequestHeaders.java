package io.aryabhatta.model;

/** The headers of a call to a provider. */
final class RequestHeaders {
  private RequestHeaders() {}

  static okhttp3.Headers forCall(ModelEndpoint endpoint, String accept) {
    okhttp3.Headers.Builder headers = new okhttp3.Headers.Builder();
    endpoint.defaultHeaders().forEach(headers::set);
    headers.set("Accept", accept);
    if (endpoint.apiKey() != null) {
      headers.set("Authorization", "Bearer " + endpoint.apiKey());
    }
    return headers.build();
  }
}
