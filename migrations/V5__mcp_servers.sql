-- MCP servers (streamable HTTP) whose tools are imported as `mcp` tools named <server>__<tool>.

CREATE TABLE mcp_servers (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    name          text NOT NULL,
    url           text NOT NULL,
    -- Header templates as written, {{secret.NAME}} unresolved: values are resolved per connection.
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    timeout_ms    int NOT NULL,
    -- Tools the server listed at the last import that could not be imported, with the reason.
    skipped       jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);

-- Which server an imported tool belongs to and its name there. Deleting the tool (by hand or
-- through its server) removes the link; the tool row itself stays the one `tools` row the agent
-- loop reads, so an mcp tool is validated, approved and journaled like any other.
CREATE TABLE mcp_tools (
    tool_id      text PRIMARY KEY REFERENCES tools (id) ON DELETE CASCADE,
    server_id    text NOT NULL REFERENCES mcp_servers (id),
    remote_name  text NOT NULL,
    UNIQUE (server_id, remote_name)
);
