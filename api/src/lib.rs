//! meso-api: the Mesos data model shared by master, agent, allocator and frameworks.
