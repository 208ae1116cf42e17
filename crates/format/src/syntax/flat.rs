//! Flattening of nested metadata into `key__map_sub__list_0` names, as sops
//! writes metadata in .env and INI files (to be implemented).
