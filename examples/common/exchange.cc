#include "exchange.h"

#include <filesystem>
#include <future>
#include <utility>

#include "describe.h"

namespace fedhub_examples {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::vector<fedhub::v1::DataCategory> Categories(const google::protobuf::RepeatedField<int>& values) {
  std::vector<fedhub::v1::DataCategory> out;
  for (int v : values) out.push_back(static_cast<fedhub::v1::DataCategory>(v));
  return out;
}

// "PROFILE under consent c-7dff0519…, LEARNING under consent c-7dff0519…".
std::string UnderConsents(const fedhub::v1::ProfileUpdate& update) {
  std::string out;
  for (int i = 0; i < update.categories_size(); ++i) {
    if (i > 0) out += ", ";
    out += CategoryName(update.categories(i));
    if (i < update.consent_ids_size()) out += " under consent " + Abbreviate(update.consent_ids(i));
  }
  return out;
}

// The state file's content, or an empty Received when there is none yet.
absl::StatusOr<Received> LoadState(const std::string& path) {
  auto records = ReadStateFile(path);
  if (absl::IsNotFound(records.status())) return Received();
  if (!records.ok()) return records.status();
  auto received = Received::Decode(*records);
  if (!received.ok()) {
    return absl::Status(received.status().code(), path + ": " + Message(received.status()));
  }
  return received;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Exchange>> Exchange::Open(fedhub::Client client, ExchangeOptions options) {
  auto received = LoadState(options.state_file);
  if (!received.ok()) return received.status();
  auto publisher = client.NewPublisher(options.publisher);
  if (!publisher.ok()) return publisher.status();
  return std::unique_ptr<Exchange>(
      new Exchange(std::move(client), std::move(options), *std::move(received), *std::move(publisher)));
}

Exchange::Exchange(fedhub::Client client, ExchangeOptions options, Received received,
                   std::unique_ptr<fedhub::Publisher> publisher)
    : client_(std::move(client)), options_(std::move(options)), publisher_(std::move(publisher)),
      received_(std::move(received)) {}

Exchange::~Exchange() {
  (void)Unsubscribe();  // how it ended no longer matters to anyone
  (void)publisher_->Close();
}

std::vector<absl::StatusOr<uint64_t>> Exchange::Publish(std::vector<fedhub::v1::PublishEvent> events) {
  std::vector<std::future<absl::StatusOr<uint64_t>>> stored;
  stored.reserve(events.size());
  for (auto& event : events) stored.push_back(publisher_->Publish(std::move(event)));
  // Sends the last partly filled batch now; each future then holds its event's outcome,
  // including the error that failed the publisher as a whole, if any.
  (void)publisher_->Flush();
  std::vector<absl::StatusOr<uint64_t>> results;
  results.reserve(stored.size());
  for (auto& future : stored) results.push_back(future.get());
  return results;
}

absl::Status Exchange::Subscribe() {
  if (subscription_) return absl::FailedPreconditionError(options_.platform_id + " is already subscribed");
  fedhub::SubscriptionOptions subscription;
  subscription.reconnect = options_.reconnect;
  {
    std::lock_guard lock(mu_);
    ended_.reset();
    in_snapshot_ = false;
    if (received_.cursor() > 0) {
      subscription.request.set_after_cursor(received_.cursor());
      Note("resumed its subscription after cursor " + std::to_string(received_.cursor()) + " (from " +
           state_file_name() + ": " + Count(received_.catalogue().size(), "partner item", "partner items") + ", " +
           Count(received_.profiles().size(), "partner profile", "partner profiles") + ")");
    } else {
      subscription.request.set_catalogue_snapshot(true);
      Note("subscribed as a new subscriber: the shared catalogue as it is now, then live changes");
    }
  }
  subscription_ = client_.Subscribe(
      std::move(subscription), [this](const fedhub::v1::SubscribeResponse& message) { return Handle(message); },
      [this](uint64_t cursor) { return Commit(cursor); });
  watcher_ = std::thread([this, subscription = subscription_.get()] {
    absl::Status ended = subscription->Wait();
    std::lock_guard lock(mu_);
    ended_ = std::move(ended);
    changed_.notify_all();
  });
  return absl::OkStatus();
}

absl::Status Exchange::Unsubscribe() {
  if (!subscription_) return absl::OkStatus();
  subscription_->Stop();
  absl::Status ended = subscription_->Wait();
  watcher_.join();
  subscription_.reset();
  return ended;
}

absl::Status Exchange::Restart() {
  // How the old subscription ended does not matter: restarting from the state file is also
  // how a platform recovers from a failed one.
  (void)Unsubscribe();
  auto loaded = LoadState(options_.state_file);
  if (!loaded.ok()) return loaded.status();
  {
    std::lock_guard lock(mu_);
    loaded->counts = received_.counts;
    received_ = *std::move(loaded);
  }
  return Subscribe();
}

absl::Status Exchange::WaitFor(const std::string& what, const std::function<bool(const Received&)>& ready,
                               std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return ready(received_) || ended_.has_value(); });
  if (ready(received_)) return absl::OkStatus();
  const std::string at = " at " + options_.platform_id;
  if (ended_.has_value()) {
    if (ended_->ok()) return absl::FailedPreconditionError(what + at + ": its subscription was stopped");
    return absl::Status(ended_->code(), what + at + ": its subscription ended: " + Message(*ended_));
  }
  return absl::DeadlineExceededError(
      what + at + ": nothing of the kind arrived within " + std::to_string(timeout.count()) +
      " ms (its subscription is at cursor " + std::to_string(received_.cursor()) +
      "); check that the hub is running and see its log");
}

void Exchange::Read(const std::function<void(const Received&)>& read) const {
  std::lock_guard lock(mu_);
  read(received_);
}

std::vector<std::string> Exchange::TakeJournal() {
  std::lock_guard lock(mu_);
  return std::exchange(journal_, {});
}

std::string Exchange::state_file_name() const {
  return std::filesystem::path(options_.state_file).filename().string();
}

void Exchange::Note(std::string line) { journal_.push_back("[" + options_.platform_id + "] " + std::move(line)); }

absl::Status Exchange::Handle(const fedhub::v1::SubscribeResponse& message) {
  for (const fedhub::v1::DeliveredEvent& event : message.events()) {
    if (event.has_erasure()) {
      if (absl::Status s = HandleErasure(event); !s.ok()) return s;
      continue;
    }
    std::lock_guard lock(mu_);
    const std::string& from = event.publisher_platform_id();
    if (event.has_catalogue()) {
      const fedhub::v1::CatalogueUpdate& update = event.catalogue();
      if (message.snapshot()) {
        if (!in_snapshot_) Note("catalogue snapshot, the items shared with it now:");
        in_snapshot_ = true;
        ++received_.counts.snapshot_items;
        Note("  from " + from + ": " + ItemSummary(update.item()));
      } else {
        ++received_.counts.catalogue_changes;
        const PartnerItem* held = received_.Item(from, update.item().item_id());
        std::string what = update.removed() ? "withdrew " + update.item().item_id()
                           : held == nullptr ? "new item " + ItemSummary(update.item())
                                             : ItemSummary(update.item()) + ", was " +
                                                   Money(held->item.price_minor(), held->item.currency());
        Note("live catalogue change from " + from + " at offset " + std::to_string(event.offset()) + ": " + what);
      }
      received_.ApplyCatalogue(event);
    } else if (event.has_profile()) {
      const fedhub::v1::ProfileUpdate& update = event.profile();
      const PersonName person = PersonName::Of(update);
      const std::string head = "profile update from " + from + " at offset " + std::to_string(event.offset()) +
                               " for " + person.Describe(options_.person_noun) + ", version " +
                               std::to_string(update.version());
      const PartnerProfile* held = received_.Profile(from, person);
      const int64_t held_version = held == nullptr ? 0 : held->version;
      if (received_.ApplyProfile(event)) {
        ++received_.counts.profile_updates;
        Note(head + ": " + UnderConsents(update));
        Note("  applied: " + FieldsSummary(update.fields()));
      } else {
        ++received_.counts.stale_profile_updates;
        Note(head + " ignored: version " + std::to_string(held_version) + " is already held");
      }
    }
  }
  std::lock_guard lock(mu_);
  if (message.snapshot_complete()) {
    in_snapshot_ = false;
    Note("catalogue snapshot complete (" + std::to_string(received_.catalogue().size()) +
         " partner items); live changes follow");
  }
  changed_.notify_all();
  return absl::OkStatus();
}

absl::Status Exchange::HandleErasure(const fedhub::v1::DeliveredEvent& event) {
  const fedhub::v1::ErasureNotice& notice = event.erasure();
  {
    std::lock_guard lock(mu_);
    ++received_.counts.erasure_notices;
    Note("erasure notice " + Abbreviate(notice.notice_id(), 20) + " at offset " + std::to_string(event.offset()) +
         ": consent " + Abbreviate(notice.consent_id()) + " was revoked; erase the " +
         CategoryList(Categories(notice.categories())) + " data of " +
         PersonName::Of(notice).Describe(options_.person_noun) + " received from " + notice.source_platform_id());
    received_.Erase(notice);
  }
  // Durable before acknowledged: the state file must no longer hold the data.
  if (absl::Status s = SaveState(std::nullopt); !s.ok()) return s;
  auto ack = client_.AcknowledgeErasure(notice.notice_id());
  if (!ack.ok()) {
    return absl::Status(ack.status().code(),
                        "acknowledging erasure " + notice.notice_id() + ": " + Message(ack.status()));
  }
  std::lock_guard lock(mu_);
  ++received_.counts.erasures_acknowledged;
  Note("  erased from memory and from " + state_file_name() + ", then acknowledged to the hub" +
       (ack->already_acknowledged() ? " (it had been acknowledged before)" : ""));
  changed_.notify_all();
  return absl::OkStatus();
}

absl::Status Exchange::Commit(uint64_t cursor) {
  absl::Status saved = SaveState(cursor);
  std::lock_guard lock(mu_);
  changed_.notify_all();
  return saved;
}

absl::Status Exchange::SaveState(std::optional<uint64_t> cursor) {
  std::vector<StateRecord> records;
  {
    std::lock_guard lock(mu_);
    records = received_.Encode(cursor.value_or(received_.cursor()));
  }
  absl::Status written = WriteStateFile(
      options_.state_file, options_.platform_id + " hub stream state: the cursor and the data applied up to it",
      records);
  if (!written.ok()) return written;
  if (cursor.has_value()) {
    std::lock_guard lock(mu_);
    received_.set_cursor(*cursor);
  }
  return absl::OkStatus();
}

}  // namespace fedhub_examples
