#pragma once

// The only place in the daemon that spells Asio's socket types.
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/signal_set.hpp>
#include <asio/write.hpp>

#include "daemon/async.h"

namespace cb::net {
using Protocol = asio::local::stream_protocol;
using Socket = Protocol::socket;
using Acceptor = Protocol::acceptor;
}  // namespace cb::net
