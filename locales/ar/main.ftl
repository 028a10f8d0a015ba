# نصوص الصفحة بالعربية (المفاتيح نفسها الموجودة في locales/en/main.ftl).

## إطار كل صفحة
brand-tagline = الطابور للمبيعات الكبرى
lang-switch = اللغة
title-join = الانضمام إلى الطابور
title-line = الطابور
title-place = مكانك في الطابور
title-not-found = غير موجودة
finding = نبحث عن مكانك…
event-label = الفعالية
join-a-line = الانضمام إلى طابور
not-found-heading = الصفحة غير موجودة

## النموذج (/)
join-heading = الانضمام إلى الطابور
join-lede = تحتفظ بمكانك ما دامت هذه الصفحة مفتوحة. سندخلك فور توفر مكان.
join-button = انضمام

## صفحة الفعالية (/e/{event})
event-already = أنت في هذا الطابور بالفعل
event-see-place = عرض مكانك
event-suspended-lede = يرجى العودة بعد قليل: الطابور محفوظ كما هو.
event-lock-heading = لحظة قبل الانضمام
event-lock-lede = لإبعاد البرامج الآلية، ينتظر الجميع هنا { $seconds ->
        [zero] أقل من ثانية
        [one] ثانية واحدة
        [two] ثانيتين
        [few] { $seconds } ثوانٍ
       *[other] { $seconds } ثانية
    } قبل الانضمام. تعود هذه الصفحة من تلقاء نفسها مع زر الانضمام.
event-continue = متابعة
event-heading = لهذا البيع طابور
event-lede = انضم بنقرة واحدة. سنحتفظ بمكانك ونأخذك إلى المتجر عندما يحين دورك.
event-join-button = الانضمام إلى الطابور
event-error-heading = تعذر فتح هذا الطابور
place-error-heading = تعذر عرض هذا المكان في الطابور

## التحقق أثناء عمله
solver-working = يجري متصفحك تحققًا قصيرًا ليثبت أنه ليس برنامجًا آليًا. يستغرق ذلك لحظة.
solver-done = اكتمل التحقق: جارٍ الانضمام إلى الطابور…
solver-progress = تقدم التحقق

## بطاقة الحالة (/queue/{session})
card-status = الحالة:
card-position = رقمك في الطابور { $number }
card-opens-in = يفتح الطابور بعد { $countdown }
card-fairness = الوصول المبكر لا يمنح أي أفضلية: كل من يصل قبل الافتتاح يحصل على مكان بترتيب عشوائي عند فتح الطابور، قبل كل من يأتي لاحقًا. أبقِ هذه الصفحة مفتوحة.
card-pass-saved = تصريحك محفوظ في هذا المتصفح.
card-continue = المتابعة إلى المتجر
card-give-back = انتهيت: أعيدوا مكاني
card-leave = مغادرة الطابور
card-join-again = الانضمام مجددًا
card-notify = نبّهني عندما يحين دوري
card-notify-on = سينبهك هذا المتصفح عندما يحين دورك، حتى من علامة تبويب أخرى.
card-sound = شغّل صوتًا عندما يحين دوري
card-sound-on = ستشغّل هذه الصفحة صوتًا عندما يحين دورك، حتى من علامة تبويب أخرى.
card-join-number = رقم وصولك: { $number }
card-draw = كل من وصل قبل الافتتاح وُضع في ترتيب سُحب عشوائيًا عند الافتتاح، قبل كل من وصل لاحقًا. مكانك في السحب: { $rank }.
card-draw-unranked = كل من وصل قبل الافتتاح وُضع في ترتيب سُحب عشوائيًا عند الافتتاح، قبل كل من وصل لاحقًا.
card-draw-link = راجع السحب المنشور (الجولة { $round })
status-paused = البيع متوقف مؤقتًا للصيانة
status-paused-detail = مكانك محفوظ. ستتابع هذه الصفحة من تلقاء نفسها عند استئناف البيع.
status-pre-queue = أنت في الطابور المسبق
status-waiting = أنت في الطابور
wait-estimate = الانتظار المتوقع: { $wait }
wait-unknown = الانتظار المتوقع: غير معروف بعد (لم يدخل أحد مؤخرًا)
wait-under-minute = أقل من دقيقة
wait-minutes = { $minutes ->
        [zero] أقل من دقيقة
        [one] نحو دقيقة واحدة
        [two] نحو دقيقتين
        [few] نحو { $minutes } دقائق
       *[other] نحو { $minutes } دقيقة
    }
wait-hours = { $hours ->
        [zero] أقل من ساعة
        [one] نحو ساعة واحدة
        [two] نحو ساعتين
        [few] نحو { $hours } ساعات
       *[other] نحو { $hours } ساعة
    }
status-active = حان دورك! تفضل بالدخول.
status-active-detail = مكانك محجوز لك الآن؛ أبقِ هذه الصفحة مفتوحة.
status-expired = انتهت مهلة مكانك
status-expired-detail = انتهى وقتك وذهب المكان إلى الشخص التالي.
status-left = غادرت الطابور
status-left-detail = ذهب مكانك إلى الشخص التالي.
status-abandoned = فاتك دورك
status-abandoned-detail = توقفت هذه الصفحة عن التواصل أثناء انتظارك، ففاتك دورك.
status-returned = مرحبًا بعودتك: احتفظنا لك بدورك
status-returned-detail = توقفت هذه الصفحة عن التواصل لبعض الوقت ففاتك دورك، لكنك عدت في الوقت المناسب: ستدخل عند أول مكان يتاح، قبل الطابور. يحدث هذا مرة واحدة فقط، لذا أبقِ هذه الصفحة مفتوحة.
closed-sold-out = نفدت الكمية
closed-sold-out-detail = بيع كل شيء: أُغلق الطابور. شكرًا لانتظارك.
closed-closed = البيع مغلق
closed-closed-detail = لم يعد الطابور يقبل أحدًا.
closed-ended = انتهى البيع
closed-ended-detail = انتهى البيع: لم يعد الطابور يقبل أحدًا.

## أخطاء قد يواجهها الزائر
error-unreachable = تعذر الوصول إلى غرفة الانتظار. تحقق من اتصالك؛ سنواصل المحاولة.
error-event_closed = هذا الطابور مغلق: لم يعد يقبل أحدًا.
error-event_suspended = البيع متوقف مؤقتًا للصيانة. يرجى العودة بعد قليل.
error-rate_limited = محاولات كثيرة جدًا من هنا في وقت قصير. انتظر لحظة ثم حاول مجددًا.
error-not_your_place = هذا المكان في الطابور يخص متصفحًا آخر.
error-session_not_found = هذا المكان في الطابور غير موجود (أو لم يعد موجودًا).
error-invalid_session_id = هذا ليس عنوان مكان في الطابور.
error-invalid_event_id = هذا ليس اسم فعالية.
error-challenge_required = لم ينجح التحقق من أنك لست برنامجًا آليًا. يرجى المحاولة مجددًا.
error-invalid_form_token = بقيت هذه الصفحة مفتوحة مدة طويلة. يرجى المحاولة مجددًا.
error-token_required = هذا الطابور لعملاء المتجر: يرجى القدوم من المتجر.
error-invalid_enqueue_token = انتهت صلاحية رابط المتجر. عد إلى المتجر وحاول مجددًا.
error-already_joined = لديك مكان في هذا الطابور بالفعل.
error-unavailable = غرفة الانتظار مزدحمة الآن. سنواصل المحاولة.
error-timeout = غرفة الانتظار مزدحمة الآن. سنواصل المحاولة.
