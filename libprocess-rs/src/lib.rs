//! libprocess: an actor runtime in the spirit of Mesos's libprocess.
//!
//! Knows nothing of Mesos. See ARCHITECTURE.md for the map.
