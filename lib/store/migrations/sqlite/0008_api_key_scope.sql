-- API key scopes (docs/api.md "Scopes"): each key may call the routes at or
-- below its scope, read < write < admin. Keys made before scopes existed could
-- call every route, so they become admin: an upgrade takes nothing away from a
-- working client. New keys get the scope `homing api-keys create --scope` asks
-- for (read by default).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('read', 'write', 'admin'));
