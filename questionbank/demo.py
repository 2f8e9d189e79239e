"""Demo question bank: legal questions citizens meet in daily life, owned (shared) by the city Department
of Justice created by accounts.demo.

DEMO CONTENT — written for demonstration, to be reviewed by legal staff before any real contest. Every
question carries an explanation and a citation (document number; article/clause where given). Questions
are loaded approved (author: the demo writer; reviewer: the demo reviewer). Idempotent: a question whose
text (diacritics-insensitive key) already exists in the department's bank is left alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, User
from contest_engine.demo import demo_loader
from questionbank import dedupe
from questionbank.importers.base import ParsedOption
from questionbank.models import Question, QuestionStatus, Visibility
from questionbank.services.questions import question_create, topic_get_or_create_path

JUSTICE_SLUG = "can-tho-so-tu-phap"  # accounts.demo.JUSTICE_SLUG
WRITER_USERNAME = "rade.stp"
REVIEWER_USERNAME = "thamdinh.stp"

TRAFFIC = "Luật Trật tự, an toàn giao thông đường bộ"
ALCOHOL = "Phòng, chống tác hại của rượu, bia"
FAMILY = "Hôn nhân và gia đình"
CIVIL = "Bộ luật Dân sự"
ID_CARD = "Căn cước"
LAND = "Đất đai"
CONSUMER = "Bảo vệ quyền lợi người tiêu dùng"
PERSONAL_DATA = "Bảo vệ dữ liệu cá nhân"

L_TRAFFIC = "36/2024/QH15"
L_ALCOHOL = "44/2019/QH14"
L_FAMILY = "52/2014/QH13"
L_CIVIL = "91/2015/QH13"
L_ID = "26/2023/QH15"
L_LAND = "31/2024/QH15"
L_CONSUMER = "19/2023/QH15"
L_PDP = "91/2025/QH15"
D_TRAFFIC_FINES = "168/2024/NĐ-CP"


@dataclass
class DemoQuestion:
    topic: list[str]
    stem: str
    options: list[str]
    correct: list[int]  # indexes of correct options (several → multiple choice, credit split evenly)
    explanation: str
    document: str
    article: str = ""
    clause: str = ""
    difficulty: str = "medium"
    type: str = ""
    tags: list[str] = field(default_factory=list)


def tf(topic: list[str], stem: str, is_true: bool, explanation: str, document: str, article: str = "",
       clause: str = "", difficulty: str = "easy") -> DemoQuestion:
    return DemoQuestion(topic, stem, ["Đúng", "Sai"], [0 if is_true else 1], explanation, document, article, clause,
                        difficulty, type="truefalse")


QUESTIONS: list[DemoQuestion] = [
    # --- Road traffic (Luật Trật tự, an toàn giao thông đường bộ 2024, in force 01/01/2025) -----------------
    DemoQuestion([TRAFFIC, "Quy tắc chung"],
                 "Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15 có hiệu lực thi hành từ ngày nào?",
                 ["01/01/2025", "01/7/2024", "01/01/2024", "01/7/2025"], [0],
                 "Luật được Quốc hội thông qua ngày 27/6/2024 và có hiệu lực từ ngày 01/01/2025 (trừ một số quy "
                 "định có hiệu lực sau).", L_TRAFFIC, difficulty="easy"),
    DemoQuestion([TRAFFIC, "Nồng độ cồn"],
                 "Theo Luật Trật tự, an toàn giao thông đường bộ năm 2024, người điều khiển phương tiện tham gia "
                 "giao thông đường bộ được phép có nồng độ cồn trong máu hoặc hơi thở ở mức nào?",
                 ["Không được có nồng độ cồn", "Dưới 50 miligam/100 mililít máu",
                  "Dưới 0,25 miligam/1 lít khí thở", "Tuỳ loại phương tiện"], [0],
                 "Nghiêm cấm điều khiển phương tiện tham gia giao thông đường bộ mà trong máu hoặc hơi thở có nồng "
                 "độ cồn.", L_TRAFFIC, "9", "2", "easy", tags=["nồng độ cồn"]),
    DemoQuestion([TRAFFIC, "Giấy phép lái xe"],
                 "Người từ đủ bao nhiêu tuổi trở lên được điều khiển xe gắn máy?",
                 ["Đủ 16 tuổi", "Đủ 15 tuổi", "Đủ 18 tuổi", "Đủ 14 tuổi"], [0],
                 "Người đủ 16 tuổi trở lên được điều khiển xe gắn máy.", L_TRAFFIC, "59", "1", "easy"),
    DemoQuestion([TRAFFIC, "Giấy phép lái xe"],
                 "Người từ đủ bao nhiêu tuổi trở lên được cấp giấy phép lái xe hạng A1, A, B1, B, C1?",
                 ["Đủ 18 tuổi", "Đủ 16 tuổi", "Đủ 20 tuổi", "Đủ 21 tuổi"], [0],
                 "Người đủ 18 tuổi trở lên được cấp giấy phép lái xe hạng A1, A, B1, B, C1.", L_TRAFFIC, "59", "1"),
    DemoQuestion([TRAFFIC, "Giấy phép lái xe"],
                 "Giấy phép lái xe hạng A1 cấp cho người lái loại xe nào?",
                 ["Xe mô tô hai bánh có dung tích xi-lanh đến 125 cm³ hoặc động cơ điện có công suất đến 11 kW",
                  "Xe mô tô hai bánh có dung tích xi-lanh trên 125 cm³",
                  "Xe ô tô chở người đến 8 chỗ (không kể chỗ của người lái xe)",
                  "Xe mô tô ba bánh"], [0],
                 "Hạng A1 cấp cho người lái xe mô tô hai bánh có dung tích xi-lanh đến 125 cm³ hoặc có công suất "
                 "động cơ điện đến 11 kW.", L_TRAFFIC, "57", "1", "medium"),
    DemoQuestion([TRAFFIC, "Giấy phép lái xe"],
                 "Mỗi giấy phép lái xe có bao nhiêu điểm để quản lý việc chấp hành pháp luật về trật tự, an toàn "
                 "giao thông đường bộ của người lái xe?",
                 ["12 điểm", "10 điểm", "20 điểm", "6 điểm"], [0],
                 "Điểm của giấy phép lái xe là 12 điểm; số điểm bị trừ mỗi lần vi phạm tuỳ tính chất, mức độ của "
                 "hành vi vi phạm.", L_TRAFFIC, "58", "", "medium", tags=["điểm giấy phép lái xe"]),
    DemoQuestion([TRAFFIC, "Giấy phép lái xe"],
                 "Giấy phép lái xe chưa bị trừ hết điểm và không bị trừ điểm trong thời hạn bao lâu kể từ ngày bị "
                 "trừ điểm gần nhất thì được phục hồi đủ 12 điểm?",
                 ["12 tháng", "6 tháng", "24 tháng", "36 tháng"], [0],
                 "Giấy phép lái xe chưa bị trừ hết điểm và không bị trừ điểm trong thời hạn 12 tháng kể từ ngày bị "
                 "trừ điểm gần nhất thì được phục hồi đủ 12 điểm.", L_TRAFFIC, "58", "", "hard"),
    DemoQuestion([TRAFFIC, "Quy tắc giao thông"],
                 "Khi chở trẻ em dưới 10 tuổi và chiều cao dưới 1,35 mét trên xe ô tô chở người, người lái xe "
                 "phải tuân thủ quy định nào?",
                 ["Không cho trẻ ngồi cùng hàng ghế với người lái xe (trừ xe chỉ có một hàng ghế) và sử dụng "
                  "thiết bị an toàn phù hợp cho trẻ em",
                  "Cho trẻ ngồi ghế trước để dễ quan sát",
                  "Chỉ cần thắt dây an toàn người lớn cho trẻ",
                  "Không có quy định riêng"], [0],
                 "Không được cho trẻ em dưới 10 tuổi và chiều cao dưới 1,35 mét ngồi cùng hàng ghế với người lái "
                 "xe, trừ loại xe chỉ có một hàng ghế; người lái xe phải sử dụng, hướng dẫn sử dụng thiết bị an "
                 "toàn phù hợp cho trẻ em.", L_TRAFFIC, "10", "3", "medium", tags=["trẻ em"]),
    DemoQuestion([TRAFFIC, "Quy tắc giao thông"],
                 "Người tham gia giao thông đường bộ phải đi bên nào theo chiều đi của mình?",
                 ["Bên phải", "Bên trái", "Giữa đường", "Bên nào cũng được nếu đường vắng"], [0],
                 "Người tham gia giao thông đường bộ phải đi bên phải theo chiều đi của mình, đi đúng làn đường, "
                 "phần đường quy định, chấp hành báo hiệu đường bộ và các quy tắc giao thông khác.",
                 L_TRAFFIC, "10", "1", "easy"),
    DemoQuestion([TRAFFIC, "Quy tắc giao thông"],
                 "Khi có người điều khiển giao thông, đồng thời có đèn tín hiệu và biển báo, người tham gia giao "
                 "thông phải chấp hành theo báo hiệu nào trước?",
                 ["Hiệu lệnh của người điều khiển giao thông", "Tín hiệu đèn giao thông", "Biển báo hiệu đường bộ",
                  "Vạch kẻ đường"], [0],
                 "Thứ tự ưu tiên chấp hành báo hiệu đường bộ: hiệu lệnh của người điều khiển giao thông; tín hiệu "
                 "đèn giao thông; biển báo hiệu; vạch kẻ đường và các dấu hiệu khác trên mặt đường; …",
                 L_TRAFFIC, "11", "", "medium"),
    tf([TRAFFIC, "Quy tắc giao thông"],
       "Người điều khiển, người được chở trên xe mô tô, xe gắn máy phải đội mũ bảo hiểm và cài quai đúng quy "
       "cách.", True,
       "Luật Trật tự, an toàn giao thông đường bộ quy định người điều khiển và người được chở trên xe mô tô, xe "
       "gắn máy phải đội mũ bảo hiểm và cài quai đúng quy cách.", L_TRAFFIC),
    DemoQuestion([TRAFFIC, "Quy tắc giao thông"],
                 "Người điều khiển xe mô tô hai bánh được chở tối đa hai người (ngoài người lái) trong trường hợp "
                 "nào?",
                 ["Chở người bệnh đi cấp cứu", "Chở trẻ em dưới 12 tuổi", "Áp giải người có hành vi vi phạm pháp luật",
                  "Chở bạn bè đi học"], [0, 1, 2],
                 "Xe mô tô hai bánh, xe gắn máy chỉ được chở một người, trừ trường hợp chở người bệnh đi cấp cứu, "
                 "trẻ em dưới 12 tuổi, áp giải người có hành vi vi phạm pháp luật thì được chở tối đa hai người.",
                 L_TRAFFIC, "", "", "medium"),
    DemoQuestion([TRAFFIC, "Nồng độ cồn"],
                 "Theo Nghị định 168/2024/NĐ-CP, người điều khiển xe ô tô mà trong hơi thở có nồng độ cồn vượt quá "
                 "0,4 miligam/1 lít khí thở bị phạt tiền ở mức nào?",
                 ["Từ 30 triệu đến 40 triệu đồng", "Từ 6 triệu đến 8 triệu đồng", "Từ 18 triệu đến 20 triệu đồng",
                  "Từ 2 triệu đến 3 triệu đồng"], [0],
                 "Mức phạt cao nhất đối với người lái xe ô tô vi phạm nồng độ cồn là từ 30 đến 40 triệu đồng, kèm "
                 "tước giấy phép lái xe từ 22 đến 24 tháng.", D_TRAFFIC_FINES, "6", "", "hard",
                 tags=["nồng độ cồn", "xử phạt"]),
    tf([TRAFFIC, "Quy tắc giao thông"],
       "Người đi bộ phải đi trên hè phố, lề đường; trường hợp đường không có hè phố, lề đường thì phải đi sát mép "
       "đường.", True,
       "Luật Trật tự, an toàn giao thông đường bộ quy định người đi bộ phải đi trên hè phố, lề đường, trường hợp "
       "không có hè phố, lề đường thì phải đi sát mép đường.", L_TRAFFIC),
    # --- Alcohol (Luật Phòng, chống tác hại của rượu, bia 2019) ----------------------------------------------
    DemoQuestion([ALCOHOL],
                 "Hành vi nào sau đây bị nghiêm cấm theo Luật Phòng, chống tác hại của rượu, bia?",
                 ["Xúi giục, kích động, lôi kéo, ép buộc người khác uống rượu, bia",
                  "Uống rượu, bia trong bữa cơm gia đình", "Mời khách uống rượu vang trong tiệc cưới (không ép buộc)",
                  "Bán bia cho người đủ 20 tuổi"], [0],
                 "Xúi giục, kích động, lôi kéo, ép buộc người khác uống rượu, bia là hành vi bị nghiêm cấm.",
                 L_ALCOHOL, "5", "1", "easy"),
    DemoQuestion([ALCOHOL],
                 "Những hành vi nào bị nghiêm cấm theo Luật Phòng, chống tác hại của rượu, bia?",
                 ["Người chưa đủ 18 tuổi uống rượu, bia", "Bán, cung cấp, khuyến mại rượu, bia cho người chưa đủ "
                  "18 tuổi", "Điều khiển phương tiện giao thông mà trong máu hoặc hơi thở có nồng độ cồn",
                  "Người đủ 18 tuổi uống bia tại nhà"], [0, 1, 2],
                 "Điều 5 của Luật nghiêm cấm người chưa đủ 18 tuổi uống rượu, bia; bán, cung cấp, khuyến mại rượu, "
                 "bia cho người chưa đủ 18 tuổi; điều khiển phương tiện giao thông mà trong máu hoặc hơi thở có "
                 "nồng độ cồn.", L_ALCOHOL, "5", "", "medium"),
    DemoQuestion([ALCOHOL],
                 "Luật Phòng, chống tác hại của rượu, bia nghiêm cấm quảng cáo loại rượu có độ cồn từ bao nhiêu độ "
                 "trở lên?",
                 ["15 độ", "5 độ", "30 độ", "40 độ"], [0],
                 "Nghiêm cấm quảng cáo rượu có độ cồn từ 15 độ trở lên.", L_ALCOHOL, "5", "", "medium"),
    DemoQuestion([ALCOHOL],
                 "Luật Phòng, chống tác hại của rượu, bia có hiệu lực thi hành từ ngày nào?",
                 ["01/01/2020", "01/7/2019", "01/01/2019", "01/7/2020"], [0],
                 "Luật số 44/2019/QH14 được thông qua ngày 14/6/2019 và có hiệu lực từ ngày 01/01/2020.",
                 L_ALCOHOL, "", "", "easy"),
    tf([ALCOHOL], "Người chưa đủ 18 tuổi được uống bia nếu có sự đồng ý của cha mẹ.", False,
       "Người chưa đủ 18 tuổi uống rượu, bia là hành vi bị nghiêm cấm, không có ngoại lệ khi cha mẹ đồng ý.",
       L_ALCOHOL, "5", "2"),
    tf([ALCOHOL], "Cán bộ, công chức, viên chức không được uống rượu, bia ngay trước, trong giờ làm việc và nghỉ "
       "giữa giờ làm việc.", True,
       "Luật quy định cán bộ, công chức, viên chức, người lao động, học sinh, sinh viên không uống rượu, bia ngay "
       "trước, trong giờ làm việc, học tập và nghỉ giữa giờ làm việc, học tập.", L_ALCOHOL, "", "", "medium"),
    # --- Marriage and family (Luật Hôn nhân và gia đình 2014) --------------------------------------------------
    DemoQuestion([FAMILY, "Kết hôn"],
                 "Theo Luật Hôn nhân và gia đình năm 2014, độ tuổi kết hôn là bao nhiêu?",
                 ["Nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên", "Nam và nữ từ đủ 18 tuổi trở lên",
                  "Nam từ đủ 18 tuổi trở lên, nữ từ đủ 16 tuổi trở lên", "Nam và nữ từ đủ 20 tuổi trở lên"], [0],
                 "Điều kiện kết hôn: nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên.", L_FAMILY, "8", "1",
                 "easy", tags=["tuổi kết hôn"]),
    DemoQuestion([FAMILY, "Kết hôn"],
                 "“Tảo hôn” là gì?",
                 ["Việc lấy vợ, lấy chồng khi một bên hoặc cả hai bên chưa đủ tuổi kết hôn",
                  "Việc kết hôn khi chưa được gia đình đồng ý", "Việc kết hôn không tổ chức lễ cưới",
                  "Việc kết hôn với người nước ngoài"], [0],
                 "Tảo hôn là việc lấy vợ, lấy chồng khi một bên hoặc cả hai bên chưa đủ tuổi kết hôn.", L_FAMILY,
                 "3", "8", "easy"),
    tf([FAMILY, "Kết hôn"], "Việc kết hôn phải được đăng ký và do cơ quan nhà nước có thẩm quyền thực hiện; việc "
       "kết hôn không được đăng ký thì không có giá trị pháp lý.", True,
       "Việc kết hôn phải được đăng ký và do cơ quan nhà nước có thẩm quyền thực hiện; không đăng ký thì không có "
       "giá trị pháp lý.", L_FAMILY, "9", "1"),
    tf([FAMILY, "Kết hôn"], "Nhà nước thừa nhận hôn nhân giữa những người cùng giới tính.", False,
       "Nhà nước không thừa nhận hôn nhân giữa những người cùng giới tính.", L_FAMILY, "8", "2"),
    DemoQuestion([FAMILY, "Kết hôn"],
                 "Trường hợp nào sau đây bị cấm kết hôn?",
                 ["Giữa những người có họ trong phạm vi ba đời", "Giữa những người cùng dòng máu về trực hệ",
                  "Giữa cha mẹ nuôi với con nuôi", "Giữa hai người khác dân tộc"], [0, 1, 2],
                 "Cấm kết hôn giữa những người cùng dòng máu về trực hệ; giữa những người có họ trong phạm vi ba "
                 "đời; giữa cha, mẹ nuôi với con nuôi; … Người khác dân tộc được kết hôn với nhau.", L_FAMILY, "5",
                 "2", "medium"),
    tf([FAMILY, "Kết hôn"], "Người đang có vợ hoặc có chồng mà chung sống như vợ chồng với người khác là hành vi "
       "bị cấm.", True,
       "Cấm người đang có vợ, có chồng mà kết hôn hoặc chung sống như vợ chồng với người khác.", L_FAMILY, "5",
       "2"),
    DemoQuestion([FAMILY, "Ly hôn và nuôi con"],
                 "Trong trường hợp nào người chồng không có quyền yêu cầu ly hôn?",
                 ["Vợ đang có thai, sinh con hoặc đang nuôi con dưới 12 tháng tuổi",
                  "Vợ đang nuôi con dưới 36 tháng tuổi", "Vợ đang đi làm ăn xa",
                  "Vợ không đồng ý ly hôn"], [0],
                 "Chồng không có quyền yêu cầu ly hôn trong trường hợp vợ đang có thai, sinh con hoặc đang nuôi con "
                 "dưới 12 tháng tuổi.", L_FAMILY, "51", "3", "medium"),
    DemoQuestion([FAMILY, "Ly hôn và nuôi con"],
                 "Khi ly hôn, con dưới bao nhiêu tháng tuổi được giao cho mẹ trực tiếp nuôi (trừ trường hợp người "
                 "mẹ không đủ điều kiện hoặc cha mẹ có thỏa thuận khác phù hợp với lợi ích của con)?",
                 ["Dưới 36 tháng tuổi", "Dưới 12 tháng tuổi", "Dưới 24 tháng tuổi", "Dưới 72 tháng tuổi"], [0],
                 "Con dưới 36 tháng tuổi được giao cho mẹ trực tiếp trông nom, chăm sóc, nuôi dưỡng, giáo dục, trừ "
                 "trường hợp người mẹ không đủ điều kiện hoặc cha mẹ có thỏa thuận khác phù hợp với lợi ích của con.",
                 L_FAMILY, "81", "3", "medium"),
    DemoQuestion([FAMILY, "Ly hôn và nuôi con"],
                 "Khi giải quyết việc nuôi con sau ly hôn, Tòa án phải xem xét nguyện vọng của con từ đủ bao nhiêu "
                 "tuổi trở lên?",
                 ["Đủ 07 tuổi", "Đủ 10 tuổi", "Đủ 12 tuổi", "Đủ 15 tuổi"], [0],
                 "Trường hợp con từ đủ 07 tuổi trở lên thì phải xem xét nguyện vọng của con.", L_FAMILY, "81", "2",
                 "medium"),
    tf([FAMILY, "Ly hôn và nuôi con"], "Sau khi ly hôn, cha hoặc mẹ không trực tiếp nuôi con có nghĩa vụ cấp "
       "dưỡng cho con.", True,
       "Cha, mẹ không trực tiếp nuôi con có nghĩa vụ cấp dưỡng cho con.", L_FAMILY, "82", "2"),
    DemoQuestion([FAMILY, "Tài sản vợ chồng"],
                 "Tài sản nào sau đây là tài sản riêng của vợ, chồng?",
                 ["Tài sản mà mỗi người có trước khi kết hôn", "Tài sản được thừa kế riêng, được tặng cho riêng "
                  "trong thời kỳ hôn nhân", "Thu nhập do lao động của vợ hoặc chồng trong thời kỳ hôn nhân",
                  "Tài sản vợ chồng cùng mua trong thời kỳ hôn nhân"], [0, 1],
                 "Tài sản riêng gồm tài sản có trước khi kết hôn; tài sản được thừa kế riêng, được tặng cho riêng "
                 "trong thời kỳ hôn nhân; … Thu nhập do lao động trong thời kỳ hôn nhân là tài sản chung.",
                 L_FAMILY, "43", "1", "hard"),
    # --- Civil code (Bộ luật Dân sự 2015) -----------------------------------------------------------------------
    DemoQuestion([CIVIL, "Cá nhân"],
                 "Theo Bộ luật Dân sự năm 2015, người thành niên là người từ đủ bao nhiêu tuổi trở lên?",
                 ["Đủ 18 tuổi", "Đủ 16 tuổi", "Đủ 20 tuổi", "Đủ 21 tuổi"], [0],
                 "Người thành niên là người từ đủ mười tám tuổi trở lên.", L_CIVIL, "20", "1", "easy"),
    DemoQuestion([CIVIL, "Cá nhân"],
                 "Năng lực pháp luật dân sự của cá nhân có từ khi nào?",
                 ["Từ khi sinh ra", "Từ khi đủ 6 tuổi", "Từ khi đủ 18 tuổi", "Từ khi được cấp thẻ căn cước"], [0],
                 "Năng lực pháp luật dân sự của cá nhân có từ khi người đó sinh ra và chấm dứt khi người đó chết.",
                 L_CIVIL, "16", "3", "easy"),
    DemoQuestion([CIVIL, "Cá nhân"],
                 "Giao dịch dân sự của người chưa đủ 6 tuổi do ai xác lập, thực hiện?",
                 ["Người đại diện theo pháp luật của người đó", "Chính người đó", "Ủy ban nhân dân cấp xã",
                  "Bất kỳ người thân thích nào"], [0],
                 "Giao dịch dân sự của người chưa đủ sáu tuổi do người đại diện theo pháp luật của người đó xác lập, "
                 "thực hiện.", L_CIVIL, "21", "2", "medium"),
    DemoQuestion([CIVIL, "Cá nhân"],
                 "Người từ đủ 15 tuổi đến chưa đủ 18 tuổi tự mình xác lập giao dịch nào sau đây thì phải được người "
                 "đại diện theo pháp luật đồng ý?",
                 ["Giao dịch liên quan đến bất động sản", "Giao dịch liên quan đến động sản phải đăng ký",
                  "Mua đồ dùng học tập hằng ngày", "Mua vé xe buýt"], [0, 1],
                 "Người từ đủ 15 tuổi đến chưa đủ 18 tuổi tự mình xác lập, thực hiện giao dịch dân sự, trừ giao dịch "
                 "liên quan đến bất động sản, động sản phải đăng ký và giao dịch khác theo luật phải được người đại "
                 "diện theo pháp luật đồng ý.", L_CIVIL, "21", "4", "hard"),
    DemoQuestion([CIVIL, "Thừa kế"],
                 "Người từ đủ 15 tuổi đến chưa đủ 18 tuổi có được lập di chúc không?",
                 ["Được, nếu được cha, mẹ hoặc người giám hộ đồng ý về việc lập di chúc", "Không được",
                  "Được, không cần ai đồng ý", "Chỉ được lập di chúc miệng"], [0],
                 "Người từ đủ mười lăm tuổi đến chưa đủ mười tám tuổi được lập di chúc nếu được cha, mẹ hoặc người "
                 "giám hộ đồng ý về việc lập di chúc.", L_CIVIL, "625", "2", "medium"),
    DemoQuestion([CIVIL, "Thừa kế"],
                 "Những người nào thuộc hàng thừa kế thứ nhất theo pháp luật?",
                 ["Vợ, chồng của người chết", "Cha đẻ, mẹ đẻ, cha nuôi, mẹ nuôi của người chết",
                  "Con đẻ, con nuôi của người chết", "Anh ruột, chị ruột, em ruột của người chết"], [0, 1, 2],
                 "Hàng thừa kế thứ nhất gồm: vợ, chồng, cha đẻ, mẹ đẻ, cha nuôi, mẹ nuôi, con đẻ, con nuôi của người "
                 "chết. Anh, chị, em ruột thuộc hàng thừa kế thứ hai.", L_CIVIL, "651", "1", "medium"),
    DemoQuestion([CIVIL, "Thừa kế"],
                 "Di chúc phải được lập theo hình thức nào?",
                 ["Lập thành văn bản; nếu không thể lập bằng văn bản thì có thể di chúc miệng",
                  "Chỉ được lập bằng miệng trước hai người làm chứng", "Chỉ được ghi âm, ghi hình",
                  "Bắt buộc phải công chứng trong mọi trường hợp"], [0],
                 "Di chúc phải được lập thành văn bản; nếu không thể lập được di chúc bằng văn bản thì có thể di "
                 "chúc miệng.", L_CIVIL, "627", "", "medium"),
    DemoQuestion([CIVIL, "Thừa kế"],
                 "Thời hiệu để người thừa kế yêu cầu chia di sản là bao lâu, kể từ thời điểm mở thừa kế?",
                 ["30 năm đối với bất động sản, 10 năm đối với động sản", "10 năm đối với mọi loại tài sản",
                  "20 năm đối với bất động sản, 5 năm đối với động sản", "Không có thời hiệu"], [0],
                 "Thời hiệu để người thừa kế yêu cầu chia di sản là 30 năm đối với bất động sản, 10 năm đối với động "
                 "sản, kể từ thời điểm mở thừa kế.", L_CIVIL, "623", "1", "hard"),
    DemoQuestion([CIVIL, "Thừa kế"],
                 "Con chưa thành niên của người lập di chúc nhưng không được người đó cho hưởng di sản vẫn được hưởng "
                 "phần di sản bằng bao nhiêu?",
                 ["Hai phần ba suất của một người thừa kế theo pháp luật", "Một nửa suất của một người thừa kế theo "
                  "pháp luật", "Toàn bộ một suất thừa kế theo pháp luật", "Không được hưởng gì"], [0],
                 "Con chưa thành niên, cha, mẹ, vợ, chồng; con thành niên mà không có khả năng lao động vẫn được "
                 "hưởng phần di sản bằng hai phần ba suất của một người thừa kế theo pháp luật.", L_CIVIL, "644", "1",
                 "hard"),
    DemoQuestion([CIVIL, "Hợp đồng và tài sản"],
                 "Lãi suất vay theo thỏa thuận giữa các cá nhân không được vượt quá mức nào?",
                 ["20%/năm của khoản tiền vay", "10%/năm của khoản tiền vay", "30%/năm của khoản tiền vay",
                  "Tuỳ các bên thỏa thuận, không giới hạn"], [0],
                 "Lãi suất theo thỏa thuận không được vượt quá 20%/năm của khoản tiền vay, trừ trường hợp luật khác "
                 "có liên quan quy định khác.", L_CIVIL, "468", "1", "medium", tags=["vay tiền"]),
    tf([CIVIL, "Hợp đồng và tài sản"], "Người nhặt được tài sản do người khác đánh rơi mà biết địa chỉ của người "
       "đánh rơi thì phải thông báo hoặc trả lại tài sản cho người đó.", True,
       "Người phát hiện tài sản do người khác đánh rơi, bỏ quên mà biết được địa chỉ của người đánh rơi hoặc bỏ "
       "quên thì phải thông báo hoặc trả lại tài sản cho người đó.", L_CIVIL, "230", "1"),
    # --- Identity cards (Luật Căn cước 2023, in force 01/7/2024) -------------------------------------------------
    DemoQuestion([ID_CARD],
                 "Theo Luật Căn cước năm 2023, công dân Việt Nam từ đủ bao nhiêu tuổi trở lên phải thực hiện thủ tục "
                 "cấp thẻ căn cước?",
                 ["Đủ 14 tuổi", "Đủ 16 tuổi", "Đủ 18 tuổi", "Đủ 6 tuổi"], [0],
                 "Công dân Việt Nam từ đủ 14 tuổi trở lên phải thực hiện thủ tục cấp thẻ căn cước; công dân dưới "
                 "14 tuổi được cấp thẻ căn cước theo nhu cầu.", L_ID, "19", "2", "easy"),
    tf([ID_CARD], "Công dân Việt Nam dưới 14 tuổi được cấp thẻ căn cước theo nhu cầu.", True,
       "Công dân Việt Nam dưới 14 tuổi được cấp thẻ căn cước theo nhu cầu.", L_ID, "19", "3"),
    DemoQuestion([ID_CARD],
                 "Công dân đã được cấp thẻ căn cước phải làm thủ tục cấp đổi thẻ khi đủ những độ tuổi nào?",
                 ["14, 25, 40 và 60 tuổi", "16, 30, 45 và 60 tuổi", "18, 25, 40 và 58 tuổi", "14, 30, 50 và 70 tuổi"],
                 [0],
                 "Công dân Việt Nam đã được cấp thẻ căn cước phải thực hiện thủ tục cấp đổi thẻ căn cước khi đủ 14 "
                 "tuổi, 25 tuổi, 40 tuổi và 60 tuổi.", L_ID, "21", "1", "medium"),
    DemoQuestion([ID_CARD],
                 "Luật Căn cước năm 2023 có hiệu lực thi hành từ ngày nào?",
                 ["01/7/2024", "01/01/2024", "01/01/2025", "15/8/2024"], [0],
                 "Luật Căn cước số 26/2023/QH15 có hiệu lực thi hành từ ngày 01/7/2024.", L_ID, "", "", "easy"),
    DemoQuestion([ID_CARD],
                 "Căn cước điện tử của công dân được sử dụng, khai thác qua ứng dụng nào?",
                 ["Ứng dụng định danh quốc gia VNeID", "Ứng dụng ngân hàng", "Mạng xã hội",
                  "Ứng dụng gọi xe"], [0],
                 "Căn cước điện tử được tích hợp và sử dụng thông qua ứng dụng định danh quốc gia (VNeID) do Bộ Công "
                 "an quản lý.", L_ID, "", "", "easy"),
    # --- Land (Luật Đất đai 2024, in force 01/8/2024) ------------------------------------------------------------
    DemoQuestion([LAND],
                 "Theo Luật Đất đai năm 2024, đất đai thuộc sở hữu của ai?",
                 ["Sở hữu toàn dân do Nhà nước đại diện chủ sở hữu và thống nhất quản lý",
                  "Sở hữu của người đang sử dụng đất", "Sở hữu của Ủy ban nhân dân cấp xã", "Sở hữu tư nhân"], [0],
                 "Đất đai thuộc sở hữu toàn dân do Nhà nước đại diện chủ sở hữu và thống nhất quản lý; Nhà nước trao "
                 "quyền sử dụng đất cho người sử dụng đất (cũng được quy định tại Điều 53 Hiến pháp năm 2013).",
                 L_LAND, "12", "", "easy"),
    DemoQuestion([LAND],
                 "Luật Đất đai năm 2024 có hiệu lực thi hành từ ngày nào?",
                 ["01/8/2024", "01/01/2025", "01/7/2024", "01/01/2024"], [0],
                 "Luật Đất đai số 31/2024/QH15 có hiệu lực từ ngày 01/8/2024 (Quốc hội cho phép hiệu lực sớm hơn "
                 "dự kiến ban đầu là 01/01/2025).", L_LAND, "", "", "medium"),
    DemoQuestion([LAND],
                 "Hợp đồng chuyển nhượng quyền sử dụng đất giữa các cá nhân phải đáp ứng yêu cầu về hình thức nào?",
                 ["Phải được công chứng hoặc chứng thực", "Chỉ cần lập giấy viết tay có người làm chứng",
                  "Chỉ cần thỏa thuận miệng", "Chỉ cần đăng trên báo"], [0],
                 "Hợp đồng chuyển nhượng, tặng cho, thế chấp, góp vốn bằng quyền sử dụng đất phải được công chứng "
                 "hoặc chứng thực (trừ trường hợp luật quy định khác).", L_LAND, "27", "3", "medium"),
    DemoQuestion([LAND],
                 "Người sử dụng đất được chuyển nhượng, tặng cho, thế chấp quyền sử dụng đất khi đáp ứng những điều "
                 "kiện nào?",
                 ["Có Giấy chứng nhận quyền sử dụng đất (trừ trường hợp luật có quy định khác)",
                  "Đất không có tranh chấp hoặc tranh chấp đã được giải quyết",
                  "Quyền sử dụng đất không bị kê biên, áp dụng biện pháp khác để bảo đảm thi hành án",
                  "Được hàng xóm liền kề đồng ý bằng văn bản"], [0, 1, 2],
                 "Điều kiện gồm: có Giấy chứng nhận; đất không có tranh chấp hoặc tranh chấp đã được giải quyết; "
                 "quyền sử dụng đất không bị kê biên, áp dụng biện pháp bảo đảm thi hành án; trong thời hạn sử dụng "
                 "đất; không bị áp dụng biện pháp khẩn cấp tạm thời. Không cần hàng xóm đồng ý.", L_LAND, "45", "1",
                 "hard"),
    DemoQuestion([LAND],
                 "Thời hạn giao đất nông nghiệp cho cá nhân trực tiếp sản xuất nông nghiệp trong hạn mức là bao "
                 "nhiêu năm?",
                 ["50 năm", "20 năm", "70 năm", "99 năm"], [0],
                 "Thời hạn giao đất, công nhận quyền sử dụng đất nông nghiệp đối với cá nhân trực tiếp sản xuất nông "
                 "nghiệp trong hạn mức là 50 năm; khi hết thời hạn được tiếp tục sử dụng mà không phải làm thủ tục "
                 "gia hạn.", L_LAND, "", "", "hard"),
    DemoQuestion([LAND],
                 "Khi chuyển nhượng, tặng cho, thừa kế quyền sử dụng đất, người sử dụng đất phải đăng ký biến động "
                 "trong thời hạn bao lâu kể từ ngày có biến động?",
                 ["30 ngày", "10 ngày", "60 ngày", "06 tháng"], [0],
                 "Người sử dụng đất phải thực hiện thủ tục đăng ký biến động trong thời hạn 30 ngày kể từ ngày có "
                 "biến động (đối với thừa kế, tính từ ngày phân chia xong quyền sử dụng đất là di sản thừa kế).",
                 L_LAND, "", "", "hard"),
    # --- Consumer protection (Luật Bảo vệ quyền lợi người tiêu dùng 2023, in force 01/7/2024) -------------------
    DemoQuestion([CONSUMER],
                 "Ngày Quyền của người tiêu dùng Việt Nam là ngày nào hằng năm?",
                 ["Ngày 15 tháng 3", "Ngày 01 tháng 6", "Ngày 09 tháng 11", "Ngày 20 tháng 10"], [0],
                 "Ngày 15 tháng 3 hằng năm là Ngày Quyền của người tiêu dùng Việt Nam.", L_CONSUMER, "", "", "easy"),
    DemoQuestion([CONSUMER],
                 "Theo Luật Bảo vệ quyền lợi người tiêu dùng năm 2023, người tiêu dùng là ai?",
                 ["Người mua, sử dụng sản phẩm, hàng hóa, dịch vụ cho mục đích tiêu dùng, sinh hoạt của cá nhân, "
                  "gia đình, tổ chức và không vì mục đích thương mại",
                  "Mọi người mua hàng hóa, kể cả để bán lại kiếm lời", "Chỉ người có hóa đơn giá trị gia tăng",
                  "Chỉ công dân Việt Nam từ đủ 18 tuổi"], [0],
                 "Người tiêu dùng là người mua, sử dụng sản phẩm, hàng hóa, dịch vụ cho mục đích tiêu dùng, sinh "
                 "hoạt của cá nhân, gia đình, tổ chức và không vì mục đích thương mại.", L_CONSUMER, "3", "1",
                 "medium"),
    DemoQuestion([CONSUMER],
                 "Tranh chấp giữa người tiêu dùng và tổ chức, cá nhân kinh doanh có thể được giải quyết bằng những "
                 "phương thức nào?",
                 ["Thương lượng", "Hòa giải", "Trọng tài hoặc Tòa án", "Đăng bài bôi nhọ doanh nghiệp trên mạng xã "
                  "hội"], [0, 1, 2],
                 "Các phương thức giải quyết tranh chấp gồm thương lượng, hòa giải, trọng tài và Tòa án. Xúc phạm "
                 "danh dự, uy tín của người khác trên mạng xã hội là hành vi vi phạm pháp luật.", L_CONSUMER, "", "",
                 "medium"),
    tf([CONSUMER], "Luật Bảo vệ quyền lợi người tiêu dùng năm 2023 có hiệu lực thi hành từ ngày 01/7/2024.", True,
       "Luật số 19/2023/QH15 được thông qua ngày 20/6/2023 và có hiệu lực từ ngày 01/7/2024.", L_CONSUMER),
    # --- Personal data protection (Luật Bảo vệ dữ liệu cá nhân 2025, in force 01/01/2026) -----------------------
    DemoQuestion([PERSONAL_DATA],
                 "Luật Bảo vệ dữ liệu cá nhân (Luật số 91/2025/QH15) có hiệu lực thi hành từ ngày nào?",
                 ["01/01/2026", "01/7/2025", "01/7/2026", "01/01/2025"], [0],
                 "Luật Bảo vệ dữ liệu cá nhân được Quốc hội thông qua ngày 26/6/2025 và có hiệu lực từ ngày "
                 "01/01/2026.", L_PDP, "", "", "easy"),
    tf([PERSONAL_DATA], "Sự im lặng hoặc không phản hồi của chủ thể dữ liệu được coi là đồng ý cho xử lý dữ liệu "
       "cá nhân.", False,
       "Sự đồng ý phải được thể hiện rõ ràng, cụ thể, tự nguyện; sự im lặng hoặc không phản hồi không được coi là "
       "sự đồng ý.", L_PDP, difficulty="medium"),
    tf([PERSONAL_DATA], "Mua, bán dữ liệu cá nhân là hành vi bị nghiêm cấm (trừ trường hợp luật có quy định "
       "khác).", True,
       "Luật Bảo vệ dữ liệu cá nhân nghiêm cấm hành vi mua, bán dữ liệu cá nhân, trừ trường hợp luật có quy định "
       "khác.", L_PDP, difficulty="medium"),
    DemoQuestion([PERSONAL_DATA],
                 "Khi một trang web đề nghị bạn đồng ý cho xử lý dữ liệu cá nhân, cách làm nào là đúng quy định?",
                 ["Ô đồng ý để trống, người dùng tự đánh dấu nếu đồng ý", "Ô đồng ý được đánh dấu sẵn",
                  "Coi như đồng ý nếu người dùng tiếp tục truy cập", "Không cần hỏi ý kiến người dùng"], [0],
                 "Sự đồng ý của chủ thể dữ liệu phải là hành động tự nguyện, rõ ràng (ví dụ tự đánh dấu vào ô đồng "
                 "ý); không được đánh dấu sẵn hay suy đoán sự đồng ý.", L_PDP, "", "", "medium"),
]


def _options(item: DemoQuestion) -> tuple[str, list[ParsedOption]]:
    qtype = item.type or ("multiple" if len(item.correct) > 1 else "single")
    if qtype == "multiple":
        share = (Decimal(1) / len(item.correct)).quantize(Decimal("0.00001"))
        credit = dict.fromkeys(item.correct, share)
        credit[item.correct[-1]] = Decimal(1) - share * (len(item.correct) - 1)
        # Wrong options cost as much as a right one earns, so ticking everything does not pay (Moodle style).
        penalty = -share
        options = [ParsedOption(text=t, fraction=credit.get(i, penalty)) for i, t in enumerate(item.options)]
    else:
        options = [ParsedOption(text=t, fraction=Decimal(1 if i in item.correct else 0))
                   for i, t in enumerate(item.options)]
    if qtype == "truefalse":
        return qtype, options
    # The list above is written with the answer first; option ids follow the stored order (a client can sort
    # by id), so rotate it by a stable amount per question to spread the answer over every position.
    shift = int(hashlib.sha256(item.stem.encode()).hexdigest(), 16) % len(options)
    return qtype, options[shift:] + options[:shift]


@demo_loader(order=20, name="questionbank")
def load(stdout: Any) -> None:
    organisation = Organisation.objects.filter(slug=JUSTICE_SLUG).first()
    if organisation is None:
        stdout.write(f"  questionbank: organisation “{JUSTICE_SLUG}” missing; run the accounts loader first.")
        return
    author = User.objects.filter(username=WRITER_USERNAME).first()
    reviewer = User.objects.filter(username=REVIEWER_USERNAME).first()
    existing = set(Question.objects.filter(organisation=organisation, is_current=True)
                   .values_list("search_key", flat=True))
    created = 0
    cache: dict = {}
    now = timezone.now()
    for item in QUESTIONS:
        qtype, options = _options(item)
        key = dedupe.fingerprint(item.stem, [o.text for o in options]).search_key
        # Demo data loaded before the options were rotated has the written order's key.
        if key in existing or dedupe.fingerprint(item.stem, item.options).search_key in existing:
            continue
        topic = topic_get_or_create_path(path=item.topic, cache=cache)
        question = question_create(
            organisation=organisation, author=None, type=qtype, stem=item.stem, options=options,
            explanation=item.explanation, citation_document=item.document, citation_article=item.article,
            citation_clause=item.clause, topic=topic, tags=[*item.tags, "demo"], difficulty=item.difficulty,
            visibility=Visibility.SHARED, status=QuestionStatus.APPROVED)
        Question.objects.filter(pk=question.pk).update(author=author, reviewer=reviewer, reviewed_at=now)
        existing.add(key)
        created += 1
    stdout.write(f"  Question bank: {len(QUESTIONS)} demo questions of {organisation} ({created} new), approved "
                 "and shared. DEMO CONTENT — to be reviewed by legal staff before real use.")
