-- Saved test cases per agent and the reports of running them.

CREATE TABLE evaluation_cases (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    agent_id      text NOT NULL,
    name          text NOT NULL,
    input         text NOT NULL,
    variables     jsonb NOT NULL DEFAULT '{}'::jsonb,
    expect        jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX evaluation_cases_agent ON evaluation_cases (workspace_id, agent_id, id);

CREATE TABLE evaluation_reports (
    id             text PRIMARY KEY,
    workspace_id   text NOT NULL REFERENCES workspaces (id),
    agent_id       text NOT NULL,
    agent_version  int NOT NULL,
    passed         int NOT NULL,
    failed         int NOT NULL,
    cases          jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX evaluation_reports_agent ON evaluation_reports (workspace_id, agent_id, id);
