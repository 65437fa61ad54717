#pragma once
// The persistence consumer's fold of room events (SPEC §13, docs/pipeline.md "Room events"):
// pure, no I/O. store::message_writer inserts a batch's non-message events into room_events
// (a messageKey seen before inserts nothing), loads the current state of their targets in one
// query and calls fold_events() with the NEW events in partition order; what it returns is
// written set-based in the same transaction.
//
// The REST API and the STOMP gateway checked each event (core/event_rules.hpp) before it
// reached Kafka; the fold re-checks what a race between two events can change, and what a
// record produced around the gateway could get wrong. A rule that fails DROPS the event
// (store::event_effects::dropped -> room_events.applied = false, logged at info); it is never
// poison, because the record is valid and the loss is the rule working:
//   - no such target (never stored, or another room's message): "no_target", "other_room";
//   - a SYSTEM target takes no edit, delete or reaction: "system_message";
//   - a deleted target takes no edit, reaction or pin: "deleted" (a delete is terminal);
//   - an edit by someone other than the sender: "not_sender";
//   - an edit whose createdAt is more than `edit_window` after the target's: "edit_window_closed";
//   - a pin when the room already has max_pins_per_room pinned messages (counted with the
//     batch's earlier pins and unpins): "pin_limit";
//   - a link preview (message.preview) of a SYSTEM or deleted message ("system_message",
//     "deleted"), or whose sender is not the message's ("not_sender").
// A later preview of the same message in the batch replaces an earlier one.
// Permission to delete or pin (sender or room admin, SPEC §16) is trusted as the gateway or the
// REST API checked it when the event was published: a role change racing the event does not undo
// it (the admin was one when they acted).
//
// Events that change nothing are applied (room_events.applied = true) without an effect:
// deleting a deleted message, pinning a pinned one, unpinning one that is not pinned, adding a
// reaction the user already has, removing one they do not have. Reactions are net per
// (target, emoji, user): only the last add or remove of the batch matters, and a reaction
// that stays keeps the event that first added it.
#include "store/message_writer.hpp"

#include <chat/proto/message.hpp>

#include <chrono>
#include <span>

namespace chat::chatd::pipeline {

store::event_effects fold_events(std::span<const proto::chat_message* const> events,
                                 std::span<const store::event_target> targets, std::chrono::milliseconds edit_window);

}  // namespace chat::chatd::pipeline
