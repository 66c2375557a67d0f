//! The actions of Mesos's `ACLs` message: every key a Mesos ACL file may hold, with the
//! name of its object field, so any Mesos file parses unchanged; and [`Action`], the ones
//! meso decides.

/// `(key in the ACL file, object field of its rules, object is a role)`: every action of
/// Mesos's `acls.proto`. Role objects follow Mesos's hierarchical roles (`"a/%"` covers
/// every role below `a`).
pub const MESOS_ACTIONS: &[(&str, &str, bool)] = &[
    ("register_frameworks", "roles", true),
    ("run_tasks", "users", false),
    ("reserve_resources", "roles", true),
    ("unreserve_resources", "reserver_principals", false),
    ("create_volumes", "roles", true),
    ("destroy_volumes", "creator_principals", false),
    ("teardown_frameworks", "framework_principals", false),
    ("update_weights", "roles", true),
    ("get_endpoints", "paths", false),
    ("get_quotas", "roles", true),
    ("update_quotas", "roles", true),
    ("view_frameworks", "users", false),
    ("view_tasks", "users", false),
    ("view_executors", "users", false),
    ("access_sandboxes", "users", false),
    ("access_mesos_logs", "logs", false),
    ("view_roles", "roles", true),
    ("view_flags", "flags", false),
    ("launch_nested_containers_as_user", "users", false),
    (
        "launch_nested_containers_under_parent_with_user",
        "users",
        false,
    ),
    ("kill_nested_containers", "users", false),
    ("wait_nested_containers", "users", false),
    ("launch_nested_container_sessions_as_user", "users", false),
    (
        "launch_nested_container_sessions_under_parent_with_user",
        "users",
        false,
    ),
    ("attach_containers_input", "users", false),
    ("attach_containers_output", "users", false),
    ("view_containers", "users", false),
    ("set_log_level", "level", false),
    ("remove_nested_containers", "users", false),
    ("register_agents", "agents", false),
    ("update_maintenance_schedules", "machines", false),
    ("get_maintenance_schedules", "machines", false),
    ("start_maintenances", "machines", false),
    ("stop_maintenances", "machines", false),
    ("get_maintenance_statuses", "machines", false),
    ("drain_agents", "agents", false),
    ("deactivate_agents", "agents", false),
    ("reactivate_agents", "agents", false),
    ("mark_agents_gone", "agents", false),
    ("launch_standalone_containers", "users", false),
    ("kill_standalone_containers", "users", false),
    ("wait_standalone_containers", "users", false),
    ("remove_standalone_containers", "users", false),
    ("view_standalone_containers", "users", false),
    (
        "modify_resource_provider_configs",
        "resource_providers",
        false,
    ),
    ("mark_resource_providers_gone", "resource_providers", false),
    ("view_resource_providers", "resource_providers", false),
    ("prune_images", "images", false),
    ("resize_volumes", "roles", true),
    ("create_block_disks", "roles", true),
    ("destroy_block_disks", "roles", true),
    ("create_mount_disks", "roles", true),
    ("destroy_mount_disks", "roles", true),
    ("destroy_raw_disks", "roles", true),
];

/// An action meso authorizes, named as its key in the ACL file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// A framework (re-)registers in a role (object: the role).
    RegisterFrameworks,
    /// A task runs as an OS user (object: the user).
    RunTasks,
    /// A framework is torn down (object: the framework's principal).
    TeardownFrameworks,
    /// Resources are reserved (object: the role).
    ReserveResources,
    /// A reservation is removed (object: the principal that made it).
    UnreserveResources,
    /// A persistent volume is created (object: the role).
    CreateVolumes,
    /// A persistent volume is destroyed (object: the principal that created it).
    DestroyVolumes,
    /// A role's weight changes (object: the role).
    UpdateWeights,
    /// A role's quota changes (object: the role).
    UpdateQuotas,
    /// A role's quota is read (object: the role).
    GetQuotas,
    /// A framework is shown (object: its user).
    ViewFrameworks,
    /// A task is shown (object: its user, else its framework's).
    ViewTasks,
    /// An executor is shown (object: its user, else its framework's).
    ViewExecutors,
    /// A sandbox is read (object: its executor's user, else its framework's).
    AccessSandboxes,
    /// The node's own log is read (no object).
    AccessMesosLogs,
    /// An authorizable endpoint is read (object: its path).
    GetEndpoints,
    /// An agent is marked gone (no object).
    MarkAgentsGone,
    /// An agent is drained (no object).
    DrainAgents,
    /// An agent is deactivated (no object).
    DeactivateAgents,
    /// An agent is reactivated (no object).
    ReactivateAgents,
    /// The maintenance schedule changes (no object).
    UpdateMaintenanceSchedules,
    /// Machines go down for maintenance (no object).
    StartMaintenances,
    /// Machines come back up (no object).
    StopMaintenances,
    /// An agent (re-)registers (no object).
    RegisterAgents,
}

impl Action {
    /// The action's key in an ACL file (and in a refusal's message).
    pub fn name(self) -> &'static str {
        match self {
            Action::RegisterFrameworks => "register_frameworks",
            Action::RunTasks => "run_tasks",
            Action::TeardownFrameworks => "teardown_frameworks",
            Action::ReserveResources => "reserve_resources",
            Action::UnreserveResources => "unreserve_resources",
            Action::CreateVolumes => "create_volumes",
            Action::DestroyVolumes => "destroy_volumes",
            Action::UpdateWeights => "update_weights",
            Action::UpdateQuotas => "update_quotas",
            Action::GetQuotas => "get_quotas",
            Action::ViewFrameworks => "view_frameworks",
            Action::ViewTasks => "view_tasks",
            Action::ViewExecutors => "view_executors",
            Action::AccessSandboxes => "access_sandboxes",
            Action::AccessMesosLogs => "access_mesos_logs",
            Action::GetEndpoints => "get_endpoints",
            Action::MarkAgentsGone => "mark_agents_gone",
            Action::DrainAgents => "drain_agents",
            Action::DeactivateAgents => "deactivate_agents",
            Action::ReactivateAgents => "reactivate_agents",
            Action::UpdateMaintenanceSchedules => "update_maintenance_schedules",
            Action::StartMaintenances => "start_maintenances",
            Action::StopMaintenances => "stop_maintenances",
            Action::RegisterAgents => "register_agents",
        }
    }

    /// Every action meso decides.
    pub const ALL: [Action; 24] = [
        Action::RegisterFrameworks,
        Action::RunTasks,
        Action::TeardownFrameworks,
        Action::ReserveResources,
        Action::UnreserveResources,
        Action::CreateVolumes,
        Action::DestroyVolumes,
        Action::UpdateWeights,
        Action::UpdateQuotas,
        Action::GetQuotas,
        Action::ViewFrameworks,
        Action::ViewTasks,
        Action::ViewExecutors,
        Action::AccessSandboxes,
        Action::AccessMesosLogs,
        Action::GetEndpoints,
        Action::MarkAgentsGone,
        Action::DrainAgents,
        Action::DeactivateAgents,
        Action::ReactivateAgents,
        Action::UpdateMaintenanceSchedules,
        Action::StartMaintenances,
        Action::StopMaintenances,
        Action::RegisterAgents,
    ];

    /// Whether the object is a role (so `"a/%"` rules cover roles below `a`).
    pub fn object_is_role(self) -> bool {
        MESOS_ACTIONS
            .iter()
            .any(|(name, _, role)| *name == self.name() && *role)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_meso_decides_is_a_mesos_action() {
        for action in Action::ALL {
            assert!(
                MESOS_ACTIONS.iter().any(|(n, _, _)| *n == action.name()),
                "{action}"
            );
        }
        assert!(Action::RegisterFrameworks.object_is_role());
        assert!(!Action::RunTasks.object_is_role());
    }
}
