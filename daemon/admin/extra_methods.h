#pragma once

#include "daemon/admin/admin_api.h"

// The operator's methods beyond the original CLI: export / import of one conversation,
// backup / restore of the whole database, and the integrity check `claude-bridgectl doctor`
// runs. Registered next to the core methods (daemon.cpp).
namespace cb::admin {

// export {conversation_id} → the export document; import {path} → {conversation_id, messages}.
// A file named in an import or restore that is unusable (malformed, wrong schema, not a
// database) fails as bad_input_file, which claude-bridgectl maps to exit status 65.
void register_transfer_methods(AdminApi& api);
// backup {path, overwrite?}, restore {path, check_only?}, integrity {}.
void register_backup_methods(AdminApi& api);

// post {conversation_id, message, action_type?}, end {conversation_id}, talk {minutes?}: the
// operator posting as "@operator", ending a conversation early, and who talked to whom.
void register_console_methods(AdminApi& api);

inline void register_extra_methods(AdminApi& api) {
  register_transfer_methods(api);
  register_backup_methods(api);
  register_console_methods(api);
}

}  // namespace cb::admin
