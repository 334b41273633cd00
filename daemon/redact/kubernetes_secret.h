#pragma once

#include <string_view>
#include <vector>

#include "daemon/redact/rule.h"

namespace cb::redact {

// Finds the values under `data:` / `stringData:` of Kubernetes Secret manifests, in YAML
// (documents separated by ---, the Secret recognised by a `kind: Secret` line anywhere in the
// same document) and in JSON as printed by `kubectl get secret -o json` (a "data" object within
// 4 KiB of "kind": "Secret"). Linear in text.size().
void scan_kubernetes_secrets(std::string_view text, std::vector<Span>* out);

}  // namespace cb::redact
