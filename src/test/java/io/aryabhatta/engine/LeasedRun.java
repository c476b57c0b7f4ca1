package io.aryabhatta.engine;

import io.aryabhatta.runs.RunStore;
import io.aryabhatta.runs.EventNotifier;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aryabhatta.audit.AuditLog;
import java.time.Duration;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** A running run, leased to "node-a" at epoch 3, inserted directly for tests of the journal. */
record LeasedRun(Lease lease, Journal.RunFacts facts) {
  static LeasedRun insert(Handle h, String runId, String conversationId) {
    h.createUpdate("INSERT INTO conversations (id, workspace_id, agent_id) VALUES (:c, 'default', 'agent_x')")
        .bind("c", conversationId).execute();
    h.createUpdate("""
            INSERT INTO runs (id, workspace_id, conversation_id, agent_id, agent_version, system_prompt, status,
                              lease_owner, lease_epoch, lease_expires_at, started_at)
            VALUES (:r, 'default', :c, 'agent_x', 1, 'You help.', 'running', 'node-a', 3,
                    now() + interval '30 seconds', now())""")
        .bind("r", runId).bind("c", conversationId).execute();
    return new LeasedRun(new Lease(runId, "node-a", 3), new Journal.RunFacts("default", conversationId, io.aryabhatta.runs.RunStore.EndsInto.NOTHING));
  }

  /** A journal as the engine wires it, with a 30-second lease. */
  static Journal journal(Jdbi jdbi, ObjectMapper mapper, EventNotifier notifier) {
    RunStore store = new RunStore(jdbi, mapper);
    RunEventLog events = new RunEventLog(mapper, store, notifier);
    return new Journal(jdbi, mapper, events, new RunTransitions(mapper, store, events, new AuditLog(jdbi, mapper)), new AuditLog(jdbi, mapper),
        Duration.ofSeconds(30));
  }
}
