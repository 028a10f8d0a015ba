# ページの日本語の文言（locales/en/main.ftl と同じキー）。

## 各ページの枠
brand-tagline = 大規模販売のための順番待ち
lang-switch = 言語
title-join = 列に並ぶ
title-line = 順番待ちの列
title-place = 列でのあなたの順番
title-not-found = 見つかりません
finding = あなたの順番を確認しています…
event-label = イベント
join-a-line = 列に並ぶ
not-found-heading = ページが見つかりません

## フォーム (/)
join-heading = 列に並ぶ
join-lede = このページを開いている間、順番は保たれます。空きができ次第ご案内します。
join-button = 並ぶ

## イベントのページ (/e/{event})
event-already = すでにこの列に並んでいます
event-see-place = 順番を見る
event-suspended-lede = しばらくしてからもう一度お越しください。列はそのまま保たれます。
event-lock-heading = 並ぶ前に少しお待ちください
event-lock-lede = ボット対策のため、並ぶ前に全員がここで { $seconds } 秒お待ちいただきます。このページはボタンとともに自動で戻ります。
event-continue = 続ける
event-heading = この販売には順番待ちの列があります
event-lede = ワンクリックで並べます。順番を確保し、あなたの番になったらショップへご案内します。
event-join-button = 列に並ぶ
event-error-heading = この列を開けませんでした
place-error-heading = この順番を表示できませんでした

## 確認の実行中
solver-working = ボットでないことを示すため、ブラウザーが短い確認をしています。少しお待ちください。
solver-done = 確認が完了しました。列に並んでいます…
solver-progress = 確認の進み具合

## 状況カード (/queue/{session})
card-status = 状態：
card-position = 列の { $number } 番目
card-opens-in = 列が開くまで { $countdown }
card-fairness = 早く来ても有利にはなりません。開始前にここにいる全員が、開始時に抽選順で、後から来る人より前の順番を受け取ります。このページを開いたままにしてください。
card-pass-saved = あなたのパスはこのブラウザーに保存されています。
card-continue = ショップへ進む
card-give-back = 終わりました：枠を返す
card-leave = 列を離れる
card-join-again = もう一度並ぶ
card-notify = 自分の番になったら通知する
card-notify-on = 自分の番になると、別のタブを開いていてもこのブラウザーが通知します。
card-sound = 自分の番になったら音で知らせる
card-sound-on = 自分の番になると、別のタブを開いていてもこのページが音を鳴らします。
card-join-number = あなたの到着番号：{ $number }
card-draw = 開始前に来た全員は、開始時に抽選で決まった順番に並び、後から来た人より前になりました。抽選でのあなたの順番：{ $rank }。
card-draw-unranked = 開始前に来た全員は、開始時に抽選で決まった順番に並び、後から来た人より前になりました。
card-draw-link = 公開された抽選を確認する（第{ $round }回）
status-paused = 販売はメンテナンスのため一時停止中です
status-paused-detail = 順番は保たれています。販売が再開されると、このページは自動で続行します。
status-pre-queue = 事前待機列にいます
status-waiting = 列に並んでいます
wait-estimate = 予想待ち時間：{ $wait }
wait-unknown = 予想待ち時間：まだ不明です（最近入場した人がいません）
wait-under-minute = 1分未満
wait-minutes = 約{ $minutes }分
wait-hours = 約{ $hours }時間
status-active = あなたの番です！ご入場いただけます。
status-active-detail = 枠を確保しました。このページを開いたままにしてください。
status-expired = 枠の有効期限が切れました
status-expired-detail = 時間切れとなり、枠は次の方に移りました。
status-left = 列を離れました
status-left-detail = あなたの順番は次の方に移りました。
status-abandoned = 順番が飛ばされました
status-abandoned-detail = 待っている間にこのページからの応答が途絶えたため、順番が過ぎました。
status-returned = おかえりなさい。順番は保持されています
status-returned-detail = しばらくこのページからの応答が途絶えて順番が過ぎましたが、時間内に戻られました。列より先に、次に空いた枠で入場できます。これは一度だけですので、このページを開いたままにしてください。
closed-sold-out = 完売
closed-sold-out-detail = すべて売り切れました。列は締め切られました。お待ちいただきありがとうございました。
closed-closed = 販売は締め切られました
closed-closed-detail = この列はもう受け付けていません。
closed-ended = 販売は終了しました
closed-ended-detail = 販売は終わりました。この列はもう受け付けていません。

## 訪問者が出会うエラー
error-unreachable = 待合室に接続できません。接続を確認してください。再試行を続けます。
error-event_closed = この列は締め切られました。もう受け付けていません。
error-event_suspended = 販売はメンテナンスのため一時停止中です。しばらくしてからお越しください。
error-rate_limited = 短時間に試行が多すぎます。少し待ってからもう一度お試しください。
error-not_your_place = この順番は別のブラウザーのものです。
error-session_not_found = この順番は存在しません（もうありません）。
error-invalid_session_id = これは列の順番のアドレスではありません。
error-invalid_event_id = これはイベント名ではありません。
error-challenge_required = ボットでないことの確認に失敗しました。もう一度お試しください。
error-invalid_form_token = このページが長く開かれすぎていました。もう一度お試しください。
error-token_required = この列はショップのお客様専用です。ショップからお越しください。
error-invalid_enqueue_token = ショップのリンクの有効期限が切れました。ショップに戻ってもう一度お試しください。
error-already_joined = この列にはすでに並んでいます。
error-unavailable = 待合室が混み合っています。再試行を続けます。
error-timeout = 待合室が混み合っています。再試行を続けます。

## 順番を別の端末に移す
card-move = この順番を別の端末に移す
status-moved = 順番は別の端末に移りました
status-moved-detail = この順番はリンクで別のブラウザに移されました。そちらで続きます。このページはもう順番を持っていません。
move-title = 順番を別の端末に移す
move-heading = 順番を別の端末に移す
move-lede = { $minutes } 分以内に、別の端末でこのリンクを開くか、そのカメラでコードを読み取ってください。順番はそのままそちらに移り、このページからは外れます。リンクは一度だけ使え、持っている人は誰でも順番を取れます。他の人とは共有しないでください。
move-qr = リンクのQRコード
move-back = 自分の順番に戻る
take-title = 列の順番をここに移す
take-heading = この列の順番をこのブラウザに移す
take-lede = { $event } の列の順番を、そのままここに移す準備ができています。移した後は、元の端末はこの順番を持ちません。
take-button = 順番をここに移す
take-error-heading = この順番を移せませんでした
error-move_expired = このリンクは期限切れか、すでに使われています。順番を持っているページで新しいリンクを作ってください。
error-place_not_movable = この順番はもう移せません。待機中ではないか、移した回数が多すぎます。
error-place_in_this_browser = この順番はすでにこのブラウザにあります。
error-other_place_here = このブラウザはこの列で別の順番を持っています。先にそれを離れてから、こちらを取ってください。
