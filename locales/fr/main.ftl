# Les textes de la page en français (les mêmes clés que locales/en/main.ftl).

## Le cadre de chaque page
brand-tagline = la file d’attente des grandes mises en vente
lang-switch = Langue
title-join = Rejoindre la file
title-line = La file d’attente
title-place = Votre place dans la file
title-not-found = Introuvable
finding = Nous cherchons votre place…
event-label = Événement
join-a-line = Rejoindre une file
not-found-heading = Page introuvable

## Le formulaire (/)
join-heading = Rejoindre la file
join-lede = Vous gardez votre place tant que cette page est ouverte. Nous vous ferons entrer dès qu’il y aura de la place.
join-button = Rejoindre

## La page d’un événement (/e/{event})
event-already = Vous êtes déjà dans cette file
event-see-place = Voir votre place
event-suspended-lede = Revenez dans un petit moment : la file est conservée telle quelle.
event-lock-heading = Un instant avant de rejoindre la file
event-lock-lede = Pour écarter les robots, chacun attend ici { $seconds } { $seconds ->
        [one] seconde
       *[other] secondes
    } avant de rejoindre la file. Cette page revient d’elle-même avec le bouton.
event-continue = Continuer
event-heading = Cette vente a une file d’attente
event-lede = Rejoignez-la en un clic. Nous gardons votre place et vous emmenons à la boutique quand votre tour viendra.
event-join-button = Rejoindre la file
event-error-heading = Impossible d’ouvrir cette file
place-error-heading = Impossible d’afficher cette place

## La vérification en cours
solver-working = Votre navigateur fait une courte vérification pour montrer qu’il n’est pas un robot. Cela prend un instant.
solver-done = Vérification faite : vous rejoignez la file…
solver-progress = Avancement de la vérification

## La carte de statut (/queue/{session})
card-status = Statut :
card-position = Place n° { $number } dans la file
card-opens-in = La file ouvre dans { $countdown }
card-fairness = Arriver tôt ne donne aucun avantage : tous ceux qui sont là avant l’ouverture reçoivent une place dans un ordre tiré au sort à l’ouverture, devant tous ceux qui arrivent après. Gardez cette page ouverte.
card-pass-saved = Votre laissez-passer est enregistré dans ce navigateur.
card-continue = Continuer vers la boutique
card-give-back = J’ai fini : libérer ma place
card-leave = Quitter la file
card-join-again = Rejoindre à nouveau
card-notify = Me prévenir quand c’est mon tour
card-notify-on = Ce navigateur vous préviendra quand ce sera votre tour, même depuis un autre onglet.
card-sound = Jouer un son quand c’est mon tour
card-sound-on = Cette page jouera un son quand ce sera votre tour, même depuis un autre onglet.
card-join-number = Votre numéro d’arrivée : { $number }
card-draw = Tous ceux arrivés avant l’ouverture ont été placés dans un ordre tiré au sort à l’ouverture, devant tous ceux arrivés après. Votre place dans le tirage : { $rank }.
card-draw-unranked = Tous ceux arrivés avant l’ouverture ont été placés dans un ordre tiré au sort à l’ouverture, devant tous ceux arrivés après.
card-draw-link = Vérifier le tirage publié (tour { $round })
status-paused = La vente est suspendue pour maintenance
status-paused-detail = Votre place est conservée. Cette page reprendra d’elle-même quand la vente reprendra.
status-pre-queue = Vous êtes dans la pré-file
status-waiting = Vous êtes dans la file
wait-estimate = Attente estimée : { $wait }
wait-unknown = Attente estimée : pas encore connue (personne n’est entré récemment)
wait-under-minute = moins d’une minute
wait-minutes = { $minutes ->
        [one] environ { $minutes } minute
       *[other] environ { $minutes } minutes
    }
wait-hours = { $hours ->
        [one] environ { $hours } heure
       *[other] environ { $hours } heures
    }
status-active = C’est votre tour ! Vous pouvez entrer.
status-active-detail = Votre place vous est réservée maintenant ; gardez cette page ouverte.
status-expired = Votre place a expiré
status-expired-detail = Votre temps est écoulé et la place est passée à la personne suivante.
status-left = Vous avez quitté la file
status-left-detail = Votre place est passée à la personne suivante.
status-abandoned = Votre tour est passé
status-abandoned-detail = Cette page a cessé de se manifester pendant l’attente, votre tour est donc passé.
status-returned = Bon retour : votre tour a été gardé
status-returned-detail = Cette page a cessé de se manifester un moment et votre tour est passé, mais vous êtes revenu à temps : vous entrez à la prochaine place libre, avant la file. Cela n’arrive qu’une fois, gardez donc cette page ouverte.
closed-sold-out = Complet
closed-sold-out-detail = Tout a été vendu : la file est fermée. Merci d’avoir attendu.
closed-closed = La vente est fermée
closed-closed-detail = La file ne prend plus personne.
closed-ended = La vente est terminée
closed-ended-detail = La vente est finie : la file ne prend plus personne.

## Erreurs qu’un visiteur peut rencontrer
error-unreachable = Impossible de joindre la salle d’attente. Vérifiez votre connexion ; nous réessayons.
error-event_closed = Cette file est fermée : elle ne prend plus personne.
error-event_suspended = La vente est suspendue pour maintenance. Revenez dans un petit moment.
error-rate_limited = Trop de tentatives depuis ici en peu de temps. Attendez un instant puis réessayez.
error-not_your_place = Cette place appartient à un autre navigateur.
error-session_not_found = Cette place n’existe pas (ou plus).
error-invalid_session_id = Ce n’est pas l’adresse d’une place dans la file.
error-invalid_event_id = Ce n’est pas le nom d’un événement.
error-challenge_required = La vérification anti-robot n’a pas abouti. Veuillez réessayer.
error-invalid_form_token = Cette page est restée ouverte trop longtemps. Veuillez réessayer.
error-token_required = Cette file est réservée aux clients de la boutique : passez par la boutique.
error-invalid_enqueue_token = Le lien de la boutique a expiré. Retournez à la boutique et réessayez.
error-already_joined = Vous avez déjà une place dans cette file.
error-unavailable = La salle d’attente est très sollicitée en ce moment. Nous réessayons.
error-timeout = La salle d’attente est très sollicitée en ce moment. Nous réessayons.

## Emporter sa place sur un autre appareil
card-move = Emporter ma place sur un autre appareil
status-moved = Votre place est passée sur un autre appareil
status-moved-detail = La place a été emportée dans un autre navigateur avec son lien. Elle continue là-bas ; cette page ne la tient plus.
move-title = Emporter votre place sur un autre appareil
move-heading = Emportez votre place sur un autre appareil
move-lede = Ouvrez ce lien sur l’autre appareil, ou scannez le code avec son appareil photo, dans les { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }. Votre place y passe avec son tour, et cette page la lâche. Le lien ne sert qu’une fois, et quiconque l’a peut prendre la place : ne le partagez avec personne.
move-qr = Code QR du lien
move-back = Retour à ma place
take-title = Prendre ici une place dans la file
take-heading = Prendre cette place dans la file dans ce navigateur
take-lede = Une place dans la file pour { $event } est prête à passer ici, avec son tour. Une fois passée, l’autre appareil ne la tient plus.
take-button = Prendre la place ici
take-error-heading = Nous n’avons pas pu déplacer cette place
error-move_expired = Ce lien a expiré ou a déjà servi. Demandez-en un nouveau sur la page qui tient la place.
error-place_not_movable = Cette place ne peut plus être déplacée : elle n’attend plus, ou elle a été déplacée trop souvent.
error-place_in_this_browser = Cette place est déjà dans ce navigateur.
error-other_place_here = Ce navigateur tient une autre place dans cette file. Quittez-la d’abord pour prendre celle-ci.
