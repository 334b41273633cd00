#include "ctl/ui/feed.h"

#include <chrono>
#include <cstdio>
#include <optional>

#include "common/ctl_protocol.h"
#include "ctl/client.h"

namespace cb::ctl::ui {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json sample(std::int64_t t, Json stats) {
  Json s = Json::object();
  s["t"] = t;
  s["stats"] = std::move(stats);
  return s;
}

}  // namespace

Feed::Feed(std::filesystem::path socket_dir, Hub& hub, std::function<void()> gone)
    : socket_dir_(std::move(socket_dir)), hub_(hub), gone_(std::move(gone)) {}

Feed::~Feed() { stop(); }

void Feed::start() {
  // Connecting here, not on the threads, so a missing daemon is the command's exit 69.
  auto watch = std::make_shared<Client>(Client::connect(socket_dir_));
  watch->call(ctl_protocol::kWatch, Json::object());
  sample_once();
  watcher_ = std::thread([this, watch] {
    try {
      for (;;) {
        std::optional<Json> e = watch->next_event();
        if (!e) return;  // interrupted: the console is stopping
        if (e->value("event", "") == "approval_requested") refresh_soon();
        hub_.publish("bridge", *e);
      }
    } catch (const CtlError&) {
      gone_();
    }
  });
  sampler_ = std::thread([this] { sample_loop(); });
}

void Feed::stop() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  g_interrupted = true;  // ends next_event() on the watch thread
  if (watcher_.joinable()) watcher_.join();
  if (sampler_.joinable()) sampler_.join();
}

void Feed::refresh_soon() {
  {
    std::lock_guard lock(m_);
    refresh_ = true;
  }
  cv_.notify_all();
}

Json Feed::health() {
  std::lock_guard lock(m_);
  Json out = Json::object();
  out["samples"] = Json::array();
  for (const auto& s : samples_) out["samples"].push_back(s);
  out["approvals"] = approvals_;
  out["sample_seconds"] = kSampleSeconds;
  return out;
}

void Feed::sample_once() {
  Client c = Client::connect(socket_dir_);
  Json stats = c.call(ctl_protocol::kStats, Json::object(), 30);
  Json approvals =
      c.call(ctl_protocol::kApprovals, Json::object(), 30).value("approvals", Json::array());
  Json s = sample(now_ms(), std::move(stats));
  bool approvals_changed = false;
  {
    std::lock_guard lock(m_);
    samples_.push_back(s);
    while (samples_.size() > kHistory) samples_.pop_front();
    if (approvals != approvals_) {
      approvals_ = approvals;
      approvals_changed = true;
    }
  }
  hub_.publish("stats", s);
  if (approvals_changed) {
    Json a = Json::object();
    a["approvals"] = std::move(approvals);
    hub_.publish("approvals", a);
  }
}

void Feed::sample_loop() {
  using Clock = std::chrono::steady_clock;
  auto next_sample = Clock::now() + std::chrono::seconds(kSampleSeconds);
  auto next_beat = Clock::now() + std::chrono::seconds(kHeartbeatSeconds);
  for (;;) {
    {
      std::unique_lock lock(m_);
      cv_.wait_until(lock, std::min(next_sample, next_beat),
                     [this] { return stopping_ || refresh_; });
      if (stopping_) return;
      refresh_ = false;
    }
    if (Clock::now() >= next_beat) {
      hub_.heartbeat();
      next_beat = Clock::now() + std::chrono::seconds(kHeartbeatSeconds);
    }
    try {
      sample_once();
    } catch (const CtlError&) {
      // The watch thread reports the daemon going away; a failed sample is only skipped.
    }
    next_sample = Clock::now() + std::chrono::seconds(kSampleSeconds);
  }
}

}  // namespace cb::ctl::ui
