# Die Texte der Seite auf Deutsch (dieselben Schlüssel wie locales/en/main.ftl).

## Der Rahmen jeder Seite
brand-tagline = die Warteschlange für den großen Vorverkauf
lang-switch = Sprache
title-join = In die Warteschlange
title-line = Die Warteschlange
title-place = Ihr Platz in der Warteschlange
title-not-found = Nicht gefunden
finding = Wir suchen Ihren Platz …
event-label = Veranstaltung
join-a-line = In eine Warteschlange
not-found-heading = Seite nicht gefunden

## Das Formular (/)
join-heading = In die Warteschlange
join-lede = Sie behalten Ihren Platz, solange diese Seite offen ist. Wir lassen Sie hinein, sobald Platz ist.
join-button = Anstellen

## Die Seite einer Veranstaltung (/e/{event})
event-already = Sie sind schon in dieser Warteschlange
event-see-place = Zu Ihrem Platz
event-suspended-lede = Bitte kommen Sie in Kürze wieder: Die Warteschlange bleibt, wie sie ist.
event-lock-heading = Einen Moment, bevor Sie sich anstellen
event-lock-lede = Damit Bots draußen bleiben, warten alle hier { $seconds } { $seconds ->
        [one] Sekunde
       *[other] Sekunden
    }, bevor sie sich anstellen. Diese Seite kommt von selbst mit der Schaltfläche zurück.
event-continue = Weiter
event-heading = Für diesen Verkauf gibt es eine Warteschlange
event-lede = Stellen Sie sich mit einem Klick an. Wir halten Ihren Platz und bringen Sie zum Shop, sobald Sie an der Reihe sind.
event-join-button = Anstellen
event-error-heading = Diese Warteschlange ließ sich nicht öffnen
place-error-heading = Dieser Platz ließ sich nicht anzeigen

## Die Prüfung, während sie läuft
solver-working = Ihr Browser macht eine kurze Prüfung, um zu zeigen, dass er kein Bot ist. Das dauert einen Moment.
solver-done = Prüfung bestanden: Sie werden angestellt …
solver-progress = Fortschritt der Prüfung

## Die Statuskarte (/queue/{session})
card-status = Status:
card-position = Platz { $number } in der Warteschlange
card-opens-in = Die Warteschlange öffnet in { $countdown }
card-fairness = Früh zu kommen bringt keinen Vorteil: Alle, die vor der Öffnung hier sind, erhalten bei der Öffnung einen Platz in zufälliger Reihenfolge, vor allen, die später kommen. Lassen Sie diese Seite offen.
card-pass-saved = Ihr Pass ist in diesem Browser gespeichert.
card-continue = Weiter zum Shop
card-give-back = Ich bin fertig: Platz freigeben
card-leave = Warteschlange verlassen
card-join-again = Erneut anstellen
card-notify = Benachrichtigen, wenn ich dran bin
card-notify-on = Dieser Browser benachrichtigt Sie, wenn Sie an der Reihe sind, auch in einem anderen Tab.
card-sound = Einen Ton spielen, wenn ich dran bin
card-sound-on = Diese Seite spielt einen Ton, wenn Sie an der Reihe sind, auch in einem anderen Tab.
card-join-number = Ihre Anmeldenummer: { $number }
card-draw = Alle, die vor der Öffnung da waren, erhielten bei der Öffnung eine zufällig ausgeloste Reihenfolge, vor allen, die später kamen. Ihr Platz in der Auslosung: { $rank }.
card-draw-unranked = Alle, die vor der Öffnung da waren, erhielten bei der Öffnung eine zufällig ausgeloste Reihenfolge, vor allen, die später kamen.
card-draw-link = Die veröffentlichte Auslosung prüfen (Runde { $round })
status-paused = Der Verkauf ist wegen Wartung unterbrochen
status-paused-detail = Ihr Platz bleibt erhalten. Diese Seite macht von selbst weiter, sobald der Verkauf weitergeht.
status-pre-queue = Sie sind in der Vorwarteschlange
status-waiting = Sie sind in der Warteschlange
wait-estimate = Geschätzte Wartezeit: { $wait }
wait-unknown = Geschätzte Wartezeit: noch unbekannt (zuletzt wurde niemand eingelassen)
wait-under-minute = unter einer Minute
wait-minutes = { $minutes ->
        [one] etwa { $minutes } Minute
       *[other] etwa { $minutes } Minuten
    }
wait-hours = { $hours ->
        [one] etwa { $hours } Stunde
       *[other] etwa { $hours } Stunden
    }
status-active = Sie sind an der Reihe! Sie sind drin.
status-active-detail = Ihr Platz im Shop ist jetzt für Sie reserviert; lassen Sie diese Seite offen.
status-expired = Ihre Zeit ist abgelaufen
status-expired-detail = Ihre Zeit ist um, und der Platz ging an die nächste Person.
status-left = Sie haben die Warteschlange verlassen
status-left-detail = Ihr Platz ging an die nächste Person.
status-abandoned = Sie wurden übersprungen
status-abandoned-detail = Diese Seite hat sich während des Wartens nicht mehr gemeldet, darum ist Ihre Reihe verstrichen.
status-returned = Willkommen zurück: Ihre Reihe wurde aufgehoben
status-returned-detail = Diese Seite hat sich eine Weile nicht gemeldet, und Ihre Reihe ist verstrichen, aber Sie sind rechtzeitig zurück: Sie kommen beim nächsten freien Platz dran, vor der Warteschlange. Das geht nur einmal, bitte lassen Sie diese Seite offen.
closed-sold-out = Ausverkauft
closed-sold-out-detail = Alles ist verkauft: Die Warteschlange ist geschlossen. Danke fürs Warten.
closed-closed = Der Verkauf ist geschlossen
closed-closed-detail = Die Warteschlange nimmt niemanden mehr auf.
closed-ended = Der Verkauf ist beendet
closed-ended-detail = Der Verkauf ist vorbei: Die Warteschlange nimmt niemanden mehr auf.

## Fehler, denen Besucher begegnen können
error-unreachable = Der Warteraum ist nicht erreichbar. Prüfen Sie Ihre Verbindung; wir versuchen es weiter.
error-event_closed = Diese Warteschlange ist geschlossen: Sie nimmt niemanden mehr auf.
error-event_suspended = Der Verkauf ist wegen Wartung unterbrochen. Bitte kommen Sie in Kürze wieder.
error-rate_limited = Zu viele Versuche von hier in kurzer Zeit. Bitte warten Sie einen Moment und versuchen Sie es erneut.
error-not_your_place = Dieser Platz gehört zu einem anderen Browser.
error-session_not_found = Diesen Platz gibt es nicht (mehr).
error-invalid_session_id = Das ist nicht die Adresse eines Platzes in der Warteschlange.
error-invalid_event_id = Das ist nicht der Name einer Veranstaltung.
error-challenge_required = Die Prüfung, dass Sie kein Bot sind, ist nicht gelungen. Bitte versuchen Sie es erneut.
error-invalid_form_token = Diese Seite war zu lange offen. Bitte versuchen Sie es erneut.
error-token_required = Diese Warteschlange ist für Kunden des Shops: Bitte kommen Sie über den Shop.
error-invalid_enqueue_token = Der Link des Shops ist abgelaufen. Bitte gehen Sie zurück zum Shop und versuchen Sie es erneut.
error-already_joined = Sie haben schon einen Platz in dieser Warteschlange.
error-unavailable = Der Warteraum ist gerade ausgelastet. Wir versuchen es weiter.
error-timeout = Der Warteraum ist gerade ausgelastet. Wir versuchen es weiter.

## Einen Platz auf ein anderes Gerät mitnehmen
card-move = Meinen Platz auf ein anderes Gerät mitnehmen
status-moved = Ihr Platz ist auf ein anderes Gerät umgezogen
status-moved-detail = Der Platz wurde mit seinem Link in einen anderen Browser mitgenommen. Dort geht es weiter; diese Seite hält ihn nicht mehr.
move-title = Platz auf ein anderes Gerät mitnehmen
move-heading = Nehmen Sie Ihren Platz auf ein anderes Gerät mit
move-lede = Öffnen Sie diesen Link auf dem anderen Gerät oder scannen Sie den Code mit dessen Kamera, innerhalb von { $minutes } { $minutes ->
        [one] Minute
       *[other] Minuten
    }. Ihr Platz zieht mit seiner Reihe dorthin um, und diese Seite gibt ihn ab. Der Link funktioniert einmal, und wer ihn hat, kann den Platz nehmen: Teilen Sie ihn mit niemandem.
move-qr = QR-Code des Links
move-back = Zurück zu meinem Platz
take-title = Einen Platz in der Warteschlange hierher holen
take-heading = Diesen Platz in der Warteschlange in diesen Browser holen
take-lede = Ein Platz in der Warteschlange für { $event } ist bereit, mit seiner Reihe hierher umzuziehen. Danach hält das andere Gerät ihn nicht mehr.
take-button = Platz hierher holen
take-error-heading = Wir konnten diesen Platz nicht umziehen
error-move_expired = Dieser Link ist abgelaufen oder wurde schon benutzt. Fordern Sie auf der Seite, die den Platz hält, einen neuen an.
error-place_not_movable = Dieser Platz kann nicht mehr umziehen: Er wartet nicht mehr oder ist zu oft umgezogen.
error-place_in_this_browser = Dieser Platz ist bereits in diesem Browser.
error-other_place_here = Dieser Browser hält einen anderen Platz in dieser Warteschlange. Verlassen Sie ihn zuerst, um diesen zu nehmen.
