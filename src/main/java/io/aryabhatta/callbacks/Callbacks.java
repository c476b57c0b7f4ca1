package io.aryabhatta.callbacks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import io.aryabhatta.runs.RunStore;
import io.aryabhatta.secrets.SecretCipher;
import io.aryabhatta.tools.AddressGuard;
import java.time.Clock;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.jdbi.v3.core.Jdbi;

/**
 * Runs' callbacks, wired: the check of a {@code callback_url} at a run's creation, the stored
 * deliveries, the workspace's signing secret and the worker that sends them.
 */
public record Callbacks(CallbackUrls urls, CallbackDeliveries deliveries, CallbackSecrets secrets,
    CallbackWorker worker) {

  public static Callbacks create(Jdbi jdbi, ObjectMapper mapper, OkHttpClient http, AddressGuard guard,
      SecretCipher cipher, AuditLog audit, RunStore runs, String node, DeliveryPolicy policy, Clock clock) {
    CallbackDeliveries deliveries = new CallbackDeliveries(jdbi, mapper);
    CallbackSecrets secrets = new CallbackSecrets(jdbi, cipher, audit);
    CallbackSender sender = new CallbackSender(http, guard, policy.attemptTimeout(), clock);
    CallbackWorker worker = new CallbackWorker(jdbi, deliveries, sender, secrets, runs, mapper, node, policy,
        Duration.ofSeconds(1));
    return new Callbacks(new CallbackUrls(guard), deliveries, secrets, worker);
  }
}
