# Los textos de la página en español (las mismas claves que locales/en/main.ftl).

## El marco de cada página
brand-tagline = la fila para las grandes ventas
lang-switch = Idioma
title-join = Unirse a la fila
title-line = La fila
title-place = Su lugar en la fila
title-not-found = No encontrada
finding = Buscando su lugar…
event-label = Evento
join-a-line = Unirse a una fila
not-found-heading = Página no encontrada

## El formulario (/)
join-heading = Unirse a la fila
join-lede = Conserva su lugar mientras esta página esté abierta. Le dejaremos entrar en cuanto haya sitio.
join-button = Unirse

## La página de un evento (/e/{event})
event-already = Ya está en esta fila
event-see-place = Ver su lugar
event-suspended-lede = Vuelva dentro de un rato: la fila se mantiene como está.
event-lock-heading = Un momento antes de unirse
event-lock-lede = Para dejar fuera a los bots, todos esperan aquí { $seconds } { $seconds ->
        [one] segundo
       *[other] segundos
    } antes de unirse. Esta página vuelve sola con el botón.
event-continue = Continuar
event-heading = Esta venta tiene una fila
event-lede = Únase con un clic. Guardaremos su lugar y le llevaremos a la tienda cuando sea su turno.
event-join-button = Unirse a la fila
event-error-heading = No pudimos abrir esta fila
place-error-heading = No pudimos mostrar este lugar

## La comprobación en curso
solver-working = Su navegador hace una breve comprobación para mostrar que no es un bot. Tarda un momento.
solver-done = Comprobación hecha: uniéndose a la fila…
solver-progress = Progreso de la comprobación

## La tarjeta de estado (/queue/{session})
card-status = Estado:
card-position = Número { $number } en la fila
card-opens-in = La fila abre en { $countdown }
card-fairness = Llegar antes no da ventaja: todos los que estén aquí antes de la apertura reciben un lugar en orden aleatorio al abrirse la fila, por delante de los que lleguen después. Mantenga esta página abierta.
card-pass-saved = Su pase está guardado en este navegador.
card-continue = Continuar a la tienda
card-give-back = He terminado: liberar mi turno
card-leave = Salir de la fila
card-join-again = Volver a unirse
card-notify = Avisarme cuando sea mi turno
card-notify-on = Este navegador le avisará cuando sea su turno, incluso desde otra pestaña.
card-sound = Reproducir un sonido cuando sea mi turno
card-sound-on = Esta página reproducirá un sonido cuando sea su turno, incluso desde otra pestaña.
card-join-number = Su número de llegada: { $number }
card-draw = Todos los que llegaron antes de la apertura recibieron un orden sorteado al azar en la apertura, por delante de los que llegaron después. Su lugar en el sorteo: { $rank }.
card-draw-unranked = Todos los que llegaron antes de la apertura recibieron un orden sorteado al azar en la apertura, por delante de los que llegaron después.
card-draw-link = Comprobar el sorteo publicado (ronda { $round })
status-paused = La venta está en pausa por mantenimiento
status-paused-detail = Su lugar se conserva. Esta página seguirá sola cuando se reanude la venta.
status-pre-queue = Está en la prefila
status-waiting = Está en la fila
wait-estimate = Espera estimada: { $wait }
wait-unknown = Espera estimada: aún desconocida (nadie ha entrado recientemente)
wait-under-minute = menos de un minuto
wait-minutes = { $minutes ->
        [one] aproximadamente { $minutes } minuto
       *[other] aproximadamente { $minutes } minutos
    }
wait-hours = { $hours ->
        [one] aproximadamente { $hours } hora
       *[other] aproximadamente { $hours } horas
    }
status-active = ¡Es su turno! Ya puede entrar.
status-active-detail = Su turno está reservado ahora; mantenga esta página abierta.
status-expired = Su turno ha caducado
status-expired-detail = Se acabó su tiempo y el turno pasó a la siguiente persona.
status-left = Ha salido de la fila
status-left-detail = Su lugar pasó a la siguiente persona.
status-abandoned = Su turno se saltó
status-abandoned-detail = Esta página dejó de dar señales mientras esperaba, así que su turno pasó.
status-returned = Bienvenido de nuevo: su turno se ha guardado
status-returned-detail = Esta página dejó de dar señales un rato y su turno pasó, pero volvió a tiempo: entrará en el próximo lugar libre, antes que la fila. Esto solo ocurre una vez, así que mantenga esta página abierta.
closed-sold-out = Agotado
closed-sold-out-detail = Se ha vendido todo: la fila está cerrada. Gracias por esperar.
closed-closed = La venta está cerrada
closed-closed-detail = La fila ya no admite a nadie.
closed-ended = La venta ha terminado
closed-ended-detail = La venta ha terminado: la fila ya no admite a nadie.

## Errores que puede encontrar un visitante
error-unreachable = No pudimos contactar con la sala de espera. Compruebe su conexión; seguimos intentándolo.
error-event_closed = Esta fila está cerrada: ya no admite a nadie.
error-event_suspended = La venta está en pausa por mantenimiento. Vuelva dentro de un rato.
error-rate_limited = Demasiados intentos desde aquí en poco tiempo. Espere un momento y vuelva a intentarlo.
error-not_your_place = Este lugar en la fila pertenece a otro navegador.
error-session_not_found = Este lugar en la fila no existe (ya).
error-invalid_session_id = Esta no es la dirección de un lugar en la fila.
error-invalid_event_id = Este no es el nombre de un evento.
error-challenge_required = La comprobación de que no es un bot no se completó. Vuelva a intentarlo.
error-invalid_form_token = Esta página estuvo abierta demasiado tiempo. Vuelva a intentarlo.
error-token_required = Esta fila es para clientes de la tienda: entre desde la tienda.
error-invalid_enqueue_token = El enlace de la tienda ha caducado. Vuelva a la tienda e inténtelo de nuevo.
error-already_joined = Ya tiene un lugar en esta fila.
error-unavailable = La sala de espera está muy ocupada ahora. Seguimos intentándolo.
error-timeout = La sala de espera está muy ocupada ahora. Seguimos intentándolo.

## Llevar el lugar a otro dispositivo
card-move = Llevar mi lugar a otro dispositivo
status-moved = Su lugar pasó a otro dispositivo
status-moved-detail = El lugar se llevó a otro navegador con su enlace. Continúa allí; esta página ya no lo tiene.
move-title = Llevar su lugar a otro dispositivo
move-heading = Lleve su lugar a otro dispositivo
move-lede = Abra este enlace en el otro dispositivo, o escanee el código con su cámara, en { $minutes } { $minutes ->
        [one] minuto
       *[other] minutos
    }. Su lugar pasa allí con su turno, y esta página lo suelta. El enlace funciona una sola vez, y quien lo tenga puede tomar el lugar: no lo comparta con nadie.
move-qr = Código QR del enlace
move-back = Volver a mi lugar
take-title = Traer aquí un lugar en la fila
take-heading = Traer este lugar en la fila a este navegador
take-lede = Un lugar en la fila de { $event } está listo para pasar aquí, con su turno. Una vez que pase, el otro dispositivo ya no lo tiene.
take-button = Traer el lugar aquí
take-error-heading = No pudimos mover este lugar
error-move_expired = Este enlace ha caducado o ya se usó. Pida uno nuevo en la página que tiene el lugar.
error-place_not_movable = Este lugar ya no se puede mover: ya no está esperando, o se movió demasiadas veces.
error-place_in_this_browser = Este lugar ya está en este navegador.
error-other_place_here = Este navegador tiene otro lugar en esta fila. Déjelo primero para tomar este.
