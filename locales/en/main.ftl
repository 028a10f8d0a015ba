# The page's words in English. Every file in locales/ has exactly these message ids (a
# test checks); arguments: $seconds, $minutes, $hours (numbers: they pick plural forms),
# $number, $countdown, $wait, $event (texts).

## The frame of every page
brand-tagline = the line for the big on-sale
lang-switch = Language
title-join = Join the line
title-line = The line
title-place = Your place in line
title-not-found = Not found
finding = Finding your place…
event-label = Event
join-a-line = Join a line
not-found-heading = Page not found

## The join form (/)
join-heading = Join the line
join-lede = You keep your place while this page is open. We'll let you in as soon as there is room.
join-button = Join

## An event's page (/e/{event})
event-already = You're already in this line
event-see-place = See your place
event-suspended-lede = Please come back in a little while: the line is kept as it is.
event-lock-heading = One moment before you join
event-lock-lede = To keep bots out, everyone waits { $seconds } { $seconds ->
        [one] second
       *[other] seconds
    } here before joining. This page comes back with the join button by itself.
event-continue = Continue
event-heading = This sale has a line
event-lede = Join it with one click. We'll keep your place and take you to the shop when it's your turn.
event-join-button = Join the line
event-error-heading = We couldn't open this line
place-error-heading = We couldn't show this place in line

## The proof-of-work while it runs
solver-working = Your browser is doing a short check to show it is not a bot. This takes a moment.
solver-done = Check done: joining the line…
solver-progress = The check's progress

## The status card (/queue/{session})
card-status = Status:
card-position = Number { $number } in line
card-opens-in = The line opens in { $countdown }
card-fairness = Arriving early gives no advantage: everyone here before the opening gets a place in random order when the line opens, ahead of all who come later. Keep this page open.
card-pass-saved = Your pass is saved in this browser.
card-continue = Continue to the shop
card-give-back = I'm done: give my slot back
card-leave = Leave the line
card-join-again = Join again
card-notify = Notify me when it's my turn
card-notify-on = This browser will notify you when it's your turn, even from another tab.
card-sound = Play a sound when it's my turn
card-sound-on = This page will play a sound when it's your turn, even from another tab.
card-join-number = Your join number: { $number }
card-draw = Everyone who joined before the opening was put in an order drawn at random at the opening, ahead of everyone who joined later. Your place in the draw: { $rank }.
card-draw-unranked = Everyone who joined before the opening was put in an order drawn at random at the opening, ahead of everyone who joined later.
card-draw-link = Check the published draw (round { $round })
status-paused = The sale is paused for maintenance
status-paused-detail = Your place is kept. This page will carry on by itself when the sale resumes.
status-pre-queue = You're in the pre-queue
status-waiting = You're in line
wait-estimate = Estimated wait: { $wait }
wait-unknown = Estimated wait: not known yet (nobody has been let in recently)
wait-under-minute = under a minute
wait-minutes = about { $minutes } min
wait-hours = about { $hours } h
status-active = It's your turn! You're in.
status-active-detail = Your slot is held for you now; keep this page open.
status-expired = Your slot has expired
status-expired-detail = Your time ran out and the slot went to the next person.
status-left = You left the line
status-left-detail = Your place or slot was given to the next person.
status-abandoned = Your turn was skipped
status-abandoned-detail = This page stopped checking in while you waited, so your turn passed.
status-returned = Welcome back: your turn was kept
status-returned-detail = This page stopped checking in for a while and your turn passed, but you came back in time: you go in at the next free place, ahead of the line. This happens only once, so please keep this page open.
closed-sold-out = Sold out
closed-sold-out-detail = Everything has been sold: the line is closed. Thank you for waiting.
closed-closed = The sale is closed
closed-closed-detail = The line takes nobody any more.
closed-ended = The sale has ended
closed-ended-detail = The sale is over: the line takes nobody any more.

## Errors a visitor can meet (by their code; English keeps the room's precise message)
error-unreachable = We could not reach the waiting room. Check your connection; we'll keep trying.
error-event_closed = This line is closed: it takes nobody any more.
error-event_suspended = The sale is paused for maintenance. Please come back in a little while.
error-rate_limited = Too many tries from here in a short time. Please wait a moment and try again.
error-not_your_place = This place in line belongs to another browser.
error-session_not_found = This place in line does not exist (any more).
error-invalid_session_id = This is not the address of a place in line.
error-invalid_event_id = This is not the name of an event.
error-challenge_required = The check that you are not a bot did not pass. Please try again.
error-invalid_form_token = This page was open too long. Please try again.
error-token_required = This line is for the shop's customers: please come from the shop.
error-invalid_enqueue_token = The shop's link has expired. Please go back to the shop and try again.
error-already_joined = You already have a place in this line.
error-unavailable = The waiting room is busy right now. We'll keep trying.
error-timeout = The waiting room is busy right now. We'll keep trying.

## Taking a place to another device (the card's link, /queue/{session}/move, /move/{event}/{code})
card-move = Take my place to another device
status-moved = Your place moved to another device
status-moved-detail = The place was taken to another browser with its link. It carries on there; this page no longer holds it.
move-title = Take your place to another device
move-heading = Take your place to another device
move-lede = Open this link on the other device, or scan the code with its camera, within { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }. Your place moves there with its turn, and this page lets go of it. The link works once, and anyone who has it can take the place: share it with nobody else.
move-qr = QR code of the link
move-back = Back to my place
take-title = Move a place in line here
take-heading = Move this place in line to this browser
take-lede = A place in the line for { $event } is ready to move here, with its turn. Once it has moved, the other device no longer holds it.
take-button = Move the place here
take-error-heading = We couldn't move this place
error-move_expired = This link has expired or was used already. Ask for a new one on the page that holds the place.
error-place_not_movable = This place can no longer move: it is not waiting any more, or it moved too often.
error-place_in_this_browser = This place is already in this browser.
error-other_place_here = This browser holds another place in this line. Leave it first to take this one.
