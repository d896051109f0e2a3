-- pm_sandbox's SQLite schema (executed on every start: every statement is idempotent).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    email TEXT NOT NULL,
    password TEXT NOT NULL,
    firstname TEXT NOT NULL,
    lastname TEXT NOT NULL,
    username TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    address TEXT, city TEXT, state TEXT, postal TEXT, country TEXT,
    phone TEXT, fax TEXT, cell TEXT, title TEXT, birthdate TEXT,
    timezone TEXT NOT NULL DEFAULT 'America/Los_Angeles',
    datetime_format TEXT NOT NULL DEFAULT 'm/d/Y H:i',
    language TEXT NOT NULL DEFAULT 'en',
    meta TEXT,
    connected_accounts TEXT,
    is_administrator INTEGER NOT NULL DEFAULT 0,
    is_system INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT, loggedin_at TEXT, active_at TEXT, remember_token TEXT,
    delegation_user_id INTEGER, manager_id INTEGER,
    schedule TEXT,
    force_change_password INTEGER NOT NULL DEFAULT 0,
    avatar TEXT,
    password_changed_at TEXT,
    preferences_2fa TEXT,
    email_task_notification INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
-- Unique even across soft-deleted rows: ProcessMaker's rule is unique:users,username.
CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users(username);

CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    manager_id INTEGER,
    enabled_2fa INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS groups_name ON groups(name);

CREATE TABLE IF NOT EXISTS group_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL,
    member_type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS group_members_triple
    ON group_members(group_id, member_type, member_id);
-- /api/1.0: memberships by member (permission checks, user deletion) and user lists sorted
-- case-insensitively like MySQL's collation, paginated straight off the index.
CREATE INDEX IF NOT EXISTS group_members_member ON group_members(member_type, member_id);
CREATE INDEX IF NOT EXISTS users_username_nocase ON users(username COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS environment_variables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    value TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS environment_variables_name ON environment_variables(name);

-- process_categories, screen_categories and script_categories share one shape.
CREATE TABLE IF NOT EXISTS categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    is_system INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS categories_kind_name ON categories(kind, name);

-- HasCategories: a process, screen or script may sit in several categories. The first one is also
-- kept in the asset's own *_category_id column; this table holds all of them, in the order given.
CREATE TABLE IF NOT EXISTS category_assignments (
    category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    assignable_type TEXT NOT NULL,
    assignable_id INTEGER NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (assignable_type, assignable_id, category_id)
);
CREATE INDEX IF NOT EXISTS category_assignments_category ON category_assignments(category_id);

-- Columns in ProcessMaker's migration order (the resource shape follows them). notification_settings
-- is the sandbox's stand-in for the process_notification_settings table.
CREATE TABLE IF NOT EXISTS processes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    process_category_id INTEGER,
    user_id INTEGER,
    description TEXT,
    name TEXT NOT NULL,
    cancel_screen_id INTEGER,
    request_detail_screen_id INTEGER,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    is_valid INTEGER NOT NULL DEFAULT 1,
    package_key TEXT,
    pause_timer_start INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    start_events TEXT,
    warnings TEXT,
    self_service_tasks TEXT,
    signal_events TEXT,
    conditional_events TEXT,
    properties TEXT,
    case_title TEXT,
    bpmn TEXT NOT NULL,
    svg TEXT,
    asset_type TEXT,
    is_template INTEGER NOT NULL DEFAULT 0,
    updated_by INTEGER,
    notification_settings TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS processes_uuid ON processes(uuid);
CREATE UNIQUE INDEX IF NOT EXISTS processes_name ON processes(name COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS screens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    screen_category_id INTEGER,
    title TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL DEFAULT 'FORM',
    config TEXT,
    computed TEXT,
    custom_css TEXT,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    key TEXT,
    watchers TEXT,
    translations TEXT,
    asset_type TEXT,
    is_template INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS screens_uuid ON screens(uuid);
CREATE UNIQUE INDEX IF NOT EXISTS screens_title ON screens(title COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    key TEXT,
    title TEXT NOT NULL,
    description TEXT,
    language TEXT NOT NULL DEFAULT 'php',
    code TEXT,
    timeout INTEGER NOT NULL DEFAULT 60,
    run_as_user_id INTEGER,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    script_category_id INTEGER,
    script_executor_id INTEGER,
    retry_attempts INTEGER NOT NULL DEFAULT 0,
    retry_wait_time INTEGER NOT NULL DEFAULT 5,
    asset_type TEXT,
    is_template INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS scripts_uuid ON scripts(uuid);
CREATE UNIQUE INDEX IF NOT EXISTS scripts_title ON scripts(title COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    config TEXT,
    name TEXT,
    helper TEXT,
    "group" TEXT,
    group_id INTEGER,
    format TEXT NOT NULL DEFAULT 'array',
    hidden INTEGER NOT NULL DEFAULT 0,
    readonly INTEGER NOT NULL DEFAULT 0,
    ui TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS settings_key ON settings(key);

CREATE TABLE IF NOT EXISTS permissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    "group" TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Who holds which permission: assignable_type is the PHP class name, as in ProcessMaker.
CREATE TABLE IF NOT EXISTS assignables (
    permission_id INTEGER NOT NULL REFERENCES permissions(id) ON DELETE CASCADE,
    assignable_id INTEGER NOT NULL,
    assignable_type TEXT NOT NULL,
    PRIMARY KEY (permission_id, assignable_type, assignable_id)
);

CREATE TABLE IF NOT EXISTS oauth_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER,
    name TEXT NOT NULL,
    secret TEXT,
    provider TEXT,
    redirect TEXT NOT NULL DEFAULT '',
    personal_access_client INTEGER NOT NULL DEFAULT 0,
    password_client INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS oauth_personal_access_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS oauth_access_tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER,
    client_id INTEGER NOT NULL,
    name TEXT,
    scopes TEXT NOT NULL DEFAULT '[]',
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX IF NOT EXISTS oauth_access_tokens_user ON oauth_access_tokens(user_id);

CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    id TEXT PRIMARY KEY,
    access_token_id TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT
);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_access ON oauth_refresh_tokens(access_token_id);

CREATE TABLE IF NOT EXISTS oauth_auth_codes (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    scopes TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT
);

-- Browser sessions for /login and the consent page (Laravel keeps these server-side too).
CREATE TABLE IF NOT EXISTS web_sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Script executors (the Docker images scripts run in). ProcessMaker's columns; is_system hides one from
-- the list.
CREATE TABLE IF NOT EXISTS script_executors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    language TEXT NOT NULL DEFAULT 'PHP',
    config TEXT,
    is_system INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The sandbox's stand-in for ProcessMaker's BuildScriptExecutor job and the image build it runs: times
-- are Unix seconds, the state is read off the clock (models/script_executors.py).
CREATE TABLE IF NOT EXISTS script_executor_builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    script_executor_id INTEGER NOT NULL,
    user_id INTEGER,
    dockerfile TEXT NOT NULL,
    exit_code INTEGER NOT NULL DEFAULT 0,
    pid INTEGER NOT NULL,
    pid_file TEXT NOT NULL,
    queued_at REAL NOT NULL,
    starts_at REAL NOT NULL,
    ends_at REAL NOT NULL,
    canceled_at REAL
);
CREATE INDEX IF NOT EXISTS script_executor_builds_executor ON script_executor_builds(script_executor_id);

-- The process engine (models/engine.py, models/process_requests.py, models/tasks.py).
-- processables: who may cancel a process's requests or edit their data (ProcessController's
-- cancel_request / edit_data), as ProcessMaker's processables table holds them for the process.
CREATE TABLE IF NOT EXISTS processables (
    process_id INTEGER NOT NULL,
    processable_id INTEGER NOT NULL,
    processable_type TEXT NOT NULL,
    method TEXT NOT NULL,
    PRIMARY KEY (process_id, method, processable_type, processable_id)
);

-- A request runs the process as it was when it started: its BPMN, manager and permissions. A
-- version is written when a request starts and the process changed since the last one.
CREATE TABLE IF NOT EXISTS process_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    process_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    bpmn TEXT NOT NULL,
    properties TEXT,
    permissions TEXT NOT NULL DEFAULT '{}',
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS process_versions_process ON process_versions(process_id, id);

-- Columns in ProcessMaker's migration order; data is hidden from the resource.
CREATE TABLE IF NOT EXISTS process_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    process_id INTEGER NOT NULL,
    process_collaboration_id INTEGER,
    user_id INTEGER,
    participant_id TEXT,
    callable_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    data TEXT NOT NULL DEFAULT '{}',
    name TEXT NOT NULL,
    completed_at TEXT,
    initiated_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    process_version_id INTEGER,
    signal_events TEXT,
    errors TEXT,
    do_not_sanitize TEXT,
    parent_request_id INTEGER,
    case_number INTEGER,
    case_title TEXT,
    case_title_formatted TEXT,
    user_viewed_at TEXT
);
CREATE INDEX IF NOT EXISTS process_requests_process ON process_requests(process_id);
CREATE INDEX IF NOT EXISTS process_requests_user ON process_requests(user_id);

CREATE TABLE IF NOT EXISTS process_request_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL,
    user_id INTEGER,
    process_id INTEGER NOT NULL,
    process_request_id INTEGER NOT NULL,
    element_id TEXT NOT NULL,
    element_type TEXT NOT NULL,
    element_index INTEGER NOT NULL DEFAULT 0,
    element_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'ACTIVE',
    completed_at TEXT,
    due_at TEXT,
    initiated_at TEXT,
    riskchanges_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    subprocess_request_id INTEGER,
    subprocess_start_event_id TEXT,
    data TEXT,
    self_service_groups TEXT,
    token_properties TEXT,
    is_self_service INTEGER NOT NULL DEFAULT 0,
    due_notified INTEGER NOT NULL DEFAULT 0,
    is_priority INTEGER NOT NULL DEFAULT 0,
    is_actionbyemail INTEGER NOT NULL DEFAULT 0,
    is_emailsent INTEGER NOT NULL DEFAULT 0,
    arrived_via TEXT
);
CREATE INDEX IF NOT EXISTS process_request_tokens_request ON process_request_tokens(process_request_id);
CREATE INDEX IF NOT EXISTS process_request_tokens_user ON process_request_tokens(user_id, element_type);
CREATE INDEX IF NOT EXISTS process_request_tokens_element ON process_request_tokens(process_id, element_id);
